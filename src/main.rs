//! DiceLens web app entry point: mount only.

mod app;
mod state;
mod views;
mod widgets;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
