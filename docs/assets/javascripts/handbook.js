// Material turns each code annotation marker into a link that shows only a number drawn by
// CSS, so a screen reader hears a link with no name. Name each one after its annotation.
(function () {
  function nameMarkers(root) {
    root.querySelectorAll(".md-annotation__index:not([aria-label])").forEach(function (link) {
      var number = link.querySelector("[data-md-annotation-id]");
      var id = number ? number.getAttribute("data-md-annotation-id") : "";
      link.setAttribute("aria-label", "Annotation " + id);
    });
  }
  new MutationObserver(function () { nameMarkers(document); })
    .observe(document.documentElement, { childList: true, subtree: true });
  nameMarkers(document);
})();
