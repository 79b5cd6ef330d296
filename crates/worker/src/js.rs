//! A [`Packet`] as the JS object a `postMessage` carries (`{h, f, u}`: typed arrays whose
//! buffers are transferred), both ways. Shared by the worker (`web`) and the page's client
//! (`src/trainer/client.rs`); no exports, so the page linking it pulls in nothing else.

use js_sys::{Array, Float32Array, Float64Array, Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::protocol::Packet;

/// A packet as a JS object, with the buffers to transfer.
pub fn packet_to_js(p: &Packet, transfer: &Array) -> JsValue {
    let o = Object::new();
    let h = Float64Array::from(&p.head[..]);
    let f = Float32Array::from(&p.f32s[..]);
    let u = Uint8Array::from(&p.u8s[..]);
    for (k, v) in [("h", &h as &JsValue), ("f", &f), ("u", &u)] {
        let _ = Reflect::set(&o, &k.into(), v);
    }
    transfer.push(&h.buffer());
    transfer.push(&f.buffer());
    transfer.push(&u.buffer());
    o.into()
}

/// A packet from a JS object (missing parts are empty).
pub fn packet_from_js(v: &JsValue) -> Packet {
    let get = |k: &str| Reflect::get(v, &k.into()).ok();
    Packet {
        head: get("h")
            .and_then(|x| x.dyn_into::<Float64Array>().ok())
            .map(|a| a.to_vec())
            .unwrap_or_default(),
        f32s: get("f")
            .and_then(|x| x.dyn_into::<Float32Array>().ok())
            .map(|a| a.to_vec())
            .unwrap_or_default(),
        u8s: get("u")
            .and_then(|x| x.dyn_into::<Uint8Array>().ok())
            .map(|a| a.to_vec())
            .unwrap_or_default(),
    }
}
