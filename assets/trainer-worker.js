// The trainer's Web Worker (loaded on demand by the page, src/trainer/client.rs): loads the
// worker's wasm-bindgen glue and module, built by Trunk from crates/worker (index.html).
// A failure to load either is posted to the page as {loadError: '<file>: <why>'}, so the page
// can say so ("The trainer's code could not be loaded (<file>: <why>)."): a
// 404 on the wasm does not fire the Worker's error event by itself.
//
// With two workers ("dicelens-trainer-0" and "-1"), the module is downloaded and compiled once:
// the first worker fetches and compiles it and posts the compiled WebAssembly.Module to the
// page as {module}, which passes it on to the other worker; that one waits for it. Where the
// browser cannot pass a compiled module ({module: null}), the other worker fetches it itself.
/* global wasm_bindgen */
(function () {
  const WASM = './dicelens-worker_bg.wasm';
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
  const start = (moduleOrPath) =>
    wasm_bindgen({ module_or_path: moduleOrPath }).catch((e) => fail('dicelens-worker_bg.wasm', e));
  if (/-[1-9]\d*$/.test(self.name || '')) {
    const wait = (ev) => {
      if (!ev.data || typeof ev.data !== 'object' || !('module' in ev.data)) return;
      removeEventListener('message', wait);
      start(ev.data.module || WASM);
    };
    addEventListener('message', wait);
    return;
  }
  (async () => {
    const r = await fetch(WASM);
    if (!r.ok) throw new Error(`the server answered ${r.status} ${r.statusText}`.trim());
    // Compiling while downloading needs the wasm MIME type; some static hosts send another.
    if ((r.headers.get('Content-Type') || '').startsWith('application/wasm')) {
      return WebAssembly.compileStreaming(r);
    }
    return WebAssembly.compile(await r.arrayBuffer());
  })().then((module) => {
    try {
      postMessage({ module });
    } catch (e) {
      postMessage({ module: null });
    }
    return start(module);
  }, (e) => fail('dicelens-worker_bg.wasm', e));
})();
