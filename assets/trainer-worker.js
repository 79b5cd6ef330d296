// The trainer's Web Worker (loaded on demand by the page, src/trainer/client.rs): loads the
// worker's wasm-bindgen glue and module, built by Trunk from crates/worker (index.html).
// A failure to load either is posted to the page as {loadError: '<file>: <why>'}, so the page
// can say so ("The trainer's code could not be loaded (<file>: <why>)."): a
// 404 on the wasm does not fire the Worker's error event by itself.
/* global wasm_bindgen */
(function () {
  const fail = (what, e) => {
    postMessage({ loadError: `${what}: ${(e && e.message) || e}` });
    close();
  };
  try {
    importScripts('./dicelens-worker.js');
  } catch (e) {
    fail('dicelens-worker.js', e);
    return;
  }
  if (typeof wasm_bindgen !== 'function') {
    fail('dicelens-worker.js', 'it did not define the module loader');
    return;
  }
  wasm_bindgen({ module_or_path: './dicelens-worker_bg.wasm' }).catch((e) =>
    fail('dicelens-worker_bg.wasm', e));
})();
