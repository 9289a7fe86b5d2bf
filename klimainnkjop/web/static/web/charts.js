// Draws each dashboard chart from the Vega-Lite spec its page embeds (reports/charts.py, chart_payload) as SVG.
// The chart's wrapper carries role="img" and a label (the caption's finding); the SVG's own marks are hidden
// from assistive technology, and the same numbers are in the table below. No eval: Vega-Embed's expression
// interpreter (ast: true) keeps the Content Security Policy strict; no injected <style> (defaultStyle: false).
(function () {
  "use strict";
  if (typeof window.vegaEmbed !== "function") {
    return; // the vendor scripts did not load: the tables still hold every number
  }
  document.querySelectorAll("[data-chart]").forEach(function (wrapper) {
    var source = document.getElementById(wrapper.getAttribute("data-chart"));
    if (!source) {
      return;
    }
    var payload = JSON.parse(source.textContent);
    // Vega-Embed gives its container a role of its own; the wrapper stays the one image with the label
    var canvas = document.createElement("div");
    canvas.setAttribute("aria-hidden", "true");
    wrapper.appendChild(canvas);
    window.vegaEmbed(canvas, payload.spec, {
      renderer: "svg",
      actions: false,
      ast: true,
      defaultStyle: false,
      tooltip: false, // its handler would inject a <style> element; the numbers are printed by the bars
      formatLocale: payload.locale,
    }).then(function () {
      var svg = wrapper.querySelector("svg");
      if (svg) {
        svg.setAttribute("aria-hidden", "true");
        svg.setAttribute("focusable", "false");
      }
      wrapper.setAttribute("data-drawn", "true");
    }).catch(function (error) {
      wrapper.setAttribute("data-drawn", "failed");
      if (window.console) {
        window.console.error("chart", wrapper.getAttribute("data-chart"), error);
      }
    });
  });
})();
