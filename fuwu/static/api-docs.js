// The API documentation page (/schema): Redoc, served from /static/vendor, renders the
// OpenAPI document named by the container's data-spec-url. System fonts only: the page
// loads nothing from another host.
(function () {
  var container = document.getElementById("redoc-container");
  var fonts = 'system-ui, -apple-system, "Segoe UI", "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif';
  window.Redoc.init(container.getAttribute("data-spec-url"), {
    theme: {
      typography: {
        fontFamily: fonts,
        headings: { fontFamily: fonts },
        code: { fontFamily: 'ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace' }
      }
    }
  }, container);
})();
