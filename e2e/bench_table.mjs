// Prints issue 13's table from the JSON lines of the benchmark (scripts/bench.sh): reads
// the lines on stdin or from the file given, ignores anything else.
import fs from 'node:fs';
const text = fs.readFileSync(process.argv[2] || 0, 'utf8');
const rows = text.split('\n').filter((l) => l.startsWith('{')).map((l) => { try { return JSON.parse(l); } catch { return null; } }).filter(Boolean);
const one = (bench, f = () => true) => rows.find((r) => r.bench === bench && f(r));
const fmt = (x, unit, d = 1) => (x == null || x === false ? 'not measured' : `${(+x).toFixed(d)} ${unit}`);
const load = (page) => one('first_plot', (r) => r.page.startsWith(page));
const drag = (view) => one('drag_frames', (r) => r.view === view)?.share_over_20ms_pct;
const views = ['region-terms', 'family', 'bias-map', 'simplex', 'landscape', 'trainer-idle'];
const table = [
  ['first plot drawn, cold cache, Slow 4G + 4× CPU: whole page at 390×844 (median)', fmt(load('whole') && load('whole').median_ms / 1000, 's', 2), '≤ 2.5 s'],
  ['the same for ?embed=family at 800×600', fmt(load('embed') && load('embed').median_ms / 1000, 's', 2), '≤ 2.5 s'],
  ['bytes transferred (gzip) before the first plot: whole page / embed', `${fmt(load('whole')?.gzip_kb_before_first_plot, 'KB')} / ${fmt(load('embed')?.gzip_kb_before_first_plot, 'KB')}`, '≤ 250 KB'],
  ['first plot is the build-time picture (whole page / embed)', `${load('whole')?.first_plot_is_picture ? 'yes' : 'no'} / ${load('embed')?.first_plot_is_picture ? 'yes' : 'no'}`, '–'],
  ['first live (interactive) plot: whole page / embed (median)', `${fmt(load('whole') && load('whole').live_median_ms / 1000, 's', 2)} / ${fmt(load('embed') && load('embed').live_median_ms / 1000, 's', 2)}`, '–'],
  ['bytes (gzip) before the first live plot: whole page / embed', `${fmt(load('whole')?.gzip_kb_before_live_plot, 'KB')} / ${fmt(load('embed')?.gzip_kb_before_live_plot, 'KB')}`, '–'],
  [`dragging, share of frames > 20 ms at 1280×800: ${views.join(' / ')}`, views.map((v) => (drag(v) == null ? '–' : `${drag(v)}%`)).join(' / '), '≤ 1% each'],
  ['the same while four runs train', drag('trainer-training') == null ? 'not measured' : `${drag('trainer-training')}%`, '≤ 1%'],
  ['their steps/s per run meanwhile (workers in short slices while the page takes input): u / κ drag', (() => {
    const by = one('drag_frames', (r) => r.view === 'trainer-training')?.by_slider;
    return by ? ['u-slider', 'kappa-slider'].map((k) => by[k]?.steps_per_s_per_run_while_dragging ?? '–').join(' / ') : 'not measured';
  })(), '–'],
  ['the same with no input at all (the machine\'s noise floor)', drag('no-input') == null ? 'not measured' : `${drag('no-input')}%`, '–'],
  ['CE + Dice + L1 + KL values and 4 gradients, 4×3×256×256 f32, native', fmt(one('native_all_losses_4_gradients')?.median_ms, 'ms'), '≤ 3 ms'],
  ['the same in WASM', fmt(one('wasm_all_losses_4_gradients')?.median_ms, 'ms'), '≤ 6 ms'],
  ['trainer throughput, four cnn8 runs (steps/s per run)', fmt(one('trainer_throughput')?.steps_per_s_per_run, 'steps/s'), '≥ 40 steps/s'],
];
console.log('| figure | measured | goal |\n| --- | --- | --- |');
for (const [a, b, c] of table) console.log(`| ${a} | ${b} | ${c} |`);
