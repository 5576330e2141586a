from django.db import migrations, models
from django.db.models.functions import Lower, Upper


def to_lower_case(apps, schema_editor):
    # Rows written before this release hold "DRAFT", "PUBLISHED", "CANCELLED".
    apps.get_model("events", "Event").objects.update(status=Lower("status"))


def to_upper_case(apps, schema_editor):
    apps.get_model("events", "Event").objects.update(status=Upper("status"))


class Migration(migrations.Migration):
    dependencies = [("events", "0001_initial")]

    operations = [
        migrations.AlterField(
            model_name="event",
            name="status",
            field=models.CharField(
                choices=[("draft", "Draft"), ("published", "Published"), ("cancelled", "Cancelled")],
                default="draft",
                max_length=10,
            ),
        ),
        migrations.RunPython(to_lower_case, to_upper_case),
    ]
