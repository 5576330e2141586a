from django.apps import AppConfig


class BookstoreConfig(AppConfig):
    name = "bookstore"
