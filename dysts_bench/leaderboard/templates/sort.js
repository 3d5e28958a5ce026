(function () {
  function key(cell) {
    var v = cell.getAttribute("data-sort");
    if (v === null) { return cell.textContent.trim().toLowerCase(); }
    return v === "" ? NaN : parseFloat(v);
  }
  function compare(a, b, asc) {
    var an = typeof a === "number", bn = typeof b === "number";
    if (an && isNaN(a)) { return 1; }
    if (bn && isNaN(b)) { return -1; }
    var r = (an && bn) ? (a === b ? 0 : (a < b ? -1 : 1)) : String(a).localeCompare(String(b));
    return asc ? r : -r;
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    var heads = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(heads, function (th, col) {
      th.addEventListener("click", function () {
        var asc = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", asc ? "ascending" : "descending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) { return compare(key(a.cells[col]), key(b.cells[col]), asc); });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  });
  // "#sort=TABLE:COLUMN" clicks that header once on load (links to a sorted view; the browser test).
  var m = /sort=([\w-]+):(\d+)/.exec(window.location.hash);
  if (m) {
    var t = document.getElementById(m[1]);
    if (t && t.tHead.rows[0].cells[+m[2]]) { t.tHead.rows[0].cells[+m[2]].click(); }
  }
})();
