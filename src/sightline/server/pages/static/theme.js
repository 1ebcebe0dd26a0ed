// Applies the saved theme before the page paints (a file, not an inline script: the CSP).
(function () {
  var saved = null;
  try { saved = window.localStorage.getItem("sightline-theme"); } catch (e) { saved = null; }
  if (saved === "light" || saved === "dark") {
    document.documentElement.setAttribute("data-theme", saved);
  }
})();
