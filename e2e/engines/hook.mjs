// The script every engine's page runs first (served inside index.html's <head>, before the
// app's module, by ./serve.mjs). It records:
// - errors: window 'error' events (uncaught exceptions and failed resource loads), unhandled
//   promise rejections, and console.error calls (a WASM panic is reported through
//   console.error). WebDriver classic, which drives WebKit here, has no log API, so this hook is
//   how the WebKit run sees console errors at all; Chromium and Firefox record them natively
//   too, and the suite checks both.
// - downloads: every click on an <a download> (how the app exports files), with its href and
//   file name; where the driver cannot receive a download (WebKit), the suite sets
//   window.__dlHold = true so the click records the link without starting one.
export const HOOK = `(function () {
  var errors = (window.__dlErrors = []);
  var note = function (s) { try { errors.push(String(s)); } catch (_) {} };
  window.addEventListener('error', function (e) {
    var t = e.target;
    if (t && t !== window && (t.src || t.href)) note('failed to load ' + (t.src || t.href));
    else note('uncaught: ' + (e.message || e.error));
  }, true);
  window.addEventListener('unhandledrejection', function (e) {
    var r = e.reason;
    note('unhandled rejection: ' + (r && (r.stack || r.message) || r));
  });
  var consoleError = console.error;
  console.error = function () {
    note('console.error: ' + Array.prototype.map.call(arguments, String).join(' '));
    return consoleError.apply(console, arguments);
  };
  window.__dlDownloads = [];
  var click = HTMLAnchorElement.prototype.click;
  HTMLAnchorElement.prototype.click = function () {
    if (this.hasAttribute('download')) {
      window.__dlDownloads.push({ href: this.href, name: this.download });
      if (window.__dlHold) return;
    }
    return click.apply(this, arguments);
  };
})();`;
