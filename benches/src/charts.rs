//! PNG charts of the side-by-side results, drawn with `plotters`' pure-Rust
//! bitmap backend. Text needs a TrueType font, loaded at run time (no
//! fontconfig/freetype): `$RINGKV_CHART_FONT`, else DejaVu Sans from
//! Debian's `fonts-dejavu-core`.

use std::path::Path;
use std::sync::OnceLock;

use anyhow::{anyhow, Context};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;

/// The font every chart's text uses (registered under this family name).
const FAMILY: &str = "sans-serif";
const DEFAULT_FONT: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
const SIZE: (u32, u32) = (1000, 600);

/// One line of a chart: (x, y) points in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub label: String,
    pub points: Vec<(f64, f64)>,
}

/// Requests/s of both servers under one appendfsync policy and pipeline.
#[derive(Debug, Clone, PartialEq)]
pub struct FsyncModeRps {
    pub appendfsync: String,
    pub pipeline: u32,
    pub ringkv_rps: f64,
    pub redis_rps: f64,
}

/// Registers the font once per process.
fn font() -> anyhow::Result<()> {
    static REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            let path = std::env::var("RINGKV_CHART_FONT").unwrap_or_else(|_| DEFAULT_FONT.into());
            let bytes = std::fs::read(&path).map_err(|e| {
                format!("reading the chart font {path}: {e} (install fonts-dejavu-core or set RINGKV_CHART_FONT)")
            })?;
            // plotters keeps the font for the process's lifetime.
            let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
            plotters::style::register_font(FAMILY, FontStyle::Normal, bytes)
                .map_err(|_| format!("{path} is not a usable TrueType font"))
        })
        .clone()
        .map_err(|e| anyhow!(e))
}

fn drawing<E: std::fmt::Display>(e: E) -> anyhow::Error {
    anyhow!("drawing the chart: {e}")
}

/// Distinct colours, by series index (the first is ringkv's where it
/// matters, so ringkv looks the same across charts).
fn color(i: usize) -> RGBColor {
    const PALETTE: [RGBColor; 4] = [
        RGBColor(0xd6, 0x27, 0x28),
        RGBColor(0x1f, 0x77, 0xb4),
        RGBColor(0x2c, 0xa0, 0x2c),
        RGBColor(0x94, 0x67, 0xbd),
    ];
    PALETTE[i % PALETTE.len()]
}

fn bounds(series: &[Series]) -> Option<(f64, f64, f64, f64)> {
    let mut pts = series.iter().flat_map(|s| s.points.iter()).copied();
    let first = pts.next()?;
    Some(pts.fold((first.0, first.0, first.1, first.1), |b, (x, y)| {
        (b.0.min(x), b.1.max(x), b.2.min(y), b.3.max(y))
    }))
}

/// Axis labels: a number with `decimals` places.
fn fixed(decimals: usize) -> impl Fn(&f64) -> String {
    move |v| format!("{v:.decimals$}")
}

/// A white canvas of the standard size, to be written to `path`.
fn canvas(path: &Path) -> anyhow::Result<DrawingArea<BitMapBackend<'_>, Shift>> {
    font()?;
    let root = BitMapBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(drawing)?;
    Ok(root)
}

/// The boxed legend of every chart.
fn draw_legend<'a, DB, CT>(
    chart: &mut ChartContext<'a, DB, CT>,
    position: SeriesLabelPosition,
    font_px: u32,
) -> anyhow::Result<()>
where
    DB: DrawingBackend + 'a,
    CT: CoordTranslate,
{
    chart
        .configure_series_labels()
        .position(position)
        .label_font((FAMILY, font_px))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(drawing)
}

/// Lines of `series` on linear axes, with a legend.
#[allow(clippy::too_many_arguments)]
fn line_chart(
    path: &Path,
    title: &str,
    x_desc: &str,
    y_desc: &str,
    series: &[Series],
    y_from_zero: bool,
    x_fmt: &dyn Fn(&f64) -> String,
    y_fmt: &dyn Fn(&f64) -> String,
) -> anyhow::Result<()> {
    let (x0, x1, y0, y1) = bounds(series).context("nothing to plot")?;
    let y0 = if y_from_zero { y0.min(0.0) } else { y0 };
    let pad = ((y1 - y0) * 0.08).max(1e-3);
    let root = canvas(path)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, (FAMILY, 24))
        .margin(20)
        .x_label_area_size(50)
        .y_label_area_size(80)
        .build_cartesian_2d(x0..x1.max(x0 + 1e-3), (y0 - pad)..(y1 + pad))
        .map_err(drawing)?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .x_label_formatter(x_fmt)
        .y_label_formatter(y_fmt)
        .light_line_style(WHITE)
        .label_style((FAMILY, 16))
        .axis_desc_style((FAMILY, 18))
        .draw()
        .map_err(drawing)?;
    for (i, s) in series.iter().enumerate() {
        let c = color(i);
        chart
            .draw_series(LineSeries::new(s.points.iter().copied(), c.stroke_width(3)))
            .map_err(drawing)?
            .label(s.label.as_str())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], c.stroke_width(3)));
        chart
            .draw_series(s.points.iter().map(|&p| Circle::new(p, 3, c.filled())))
            .map_err(drawing)?;
    }
    draw_legend(&mut chart, SeriesLabelPosition::UpperLeft, 18)?;
    root.present().map_err(drawing)?;
    Ok(())
}

/// Memory above the pre-snapshot baseline against seconds since BGSAVE.
pub fn memory_over_time(path: &Path, title: &str, series: &[Series]) -> anyhow::Result<()> {
    line_chart(
        path,
        title,
        "seconds since BGSAVE",
        "MiB above baseline (PSS, server + child)",
        series,
        true,
        &fixed(0),
        &fixed(0),
    )
}

/// Copied bytes / data set (%) against SET/s during the save.
pub fn cow_curve(path: &Path, series: &[Series]) -> anyhow::Result<()> {
    line_chart(
        path,
        "Copy-on-write during a forked BGSAVE",
        "SET/s during the snapshot (random keys over the data set)",
        "copy-on-write bytes / data set (%)",
        series,
        true,
        &|v| crate::report::thousands(*v),
        &fixed(0),
    )
}

/// Where quantile `q` sits on a "nines" axis: 0.9 → 1, 0.99 → 2, …
fn nines(q: f64) -> f64 {
    -(1.0 - q).max(1e-6).log10()
}

/// Latency (log scale) against quantile on a nines axis: the tail is as
/// wide as the body.
pub fn latency_cdf(path: &Path, title: &str, series: &[Series]) -> anyhow::Result<()> {
    // The axis ends one nine past the highest quantile below 1 (the
    // maximum itself is drawn at the right edge).
    let max_nines = (series
        .iter()
        .flat_map(|s| s.points.iter())
        .filter(|p| p.0 < 1.0)
        .map(|p| nines(p.0))
        .fold(1.0f64, f64::max)
        + 0.5)
        .ceil();
    let (_, _, y0, y1) = bounds(series).context("nothing to plot")?;
    let (y0, y1) = (y0.max(0.001) * 0.8, y1.max(0.002) * 1.25);
    let root = canvas(path)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, (FAMILY, 24))
        .margin(20)
        .x_label_area_size(50)
        .y_label_area_size(80)
        .build_cartesian_2d(0.0..max_nines, (y0..y1).log_scale())
        .map_err(drawing)?;
    chart
        .configure_mesh()
        .x_desc("percentile")
        .y_desc("latency (ms, log scale)")
        // One label per nine: 0%, 90%, 99%, 99.9%, ...
        .x_labels(max_nines as usize + 1)
        .x_label_formatter(&|n| {
            if (n - n.round()).abs() > 1e-6 {
                return String::new();
            }
            let pct = 100.0 * (1.0 - 10f64.powf(-n.round()));
            match n.round() as u32 {
                0 => "0%".into(),
                k => format!("{pct:.*}%", k.saturating_sub(2) as usize),
            }
        })
        .y_label_formatter(&|v| format!("{v}"))
        .light_line_style(WHITE)
        .label_style((FAMILY, 16))
        .axis_desc_style((FAMILY, 18))
        .draw()
        .map_err(drawing)?;
    for (i, s) in series.iter().enumerate() {
        let c = color(i);
        chart
            .draw_series(LineSeries::new(
                s.points
                    .iter()
                    .map(|&(q, ms)| (nines(q).min(max_nines), ms.max(y0))),
                c.stroke_width(3),
            ))
            .map_err(drawing)?
            .label(s.label.as_str())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], c.stroke_width(3)));
    }
    draw_legend(&mut chart, SeriesLabelPosition::UpperLeft, 18)?;
    root.present().map_err(drawing)?;
    Ok(())
}

/// Grouped bars: requests/s per appendfsync policy, ringkv next to redis,
/// one panel per pipeline depth (their scales differ tenfold).
pub fn appendfsync_rps(path: &Path, rows: &[FsyncModeRps]) -> anyhow::Result<()> {
    let mut pipelines: Vec<u32> = rows.iter().map(|r| r.pipeline).collect();
    pipelines.sort_unstable();
    pipelines.dedup();
    anyhow::ensure!(!pipelines.is_empty(), "nothing to plot");
    let root = canvas(path)?;
    let root = root
        .titled(
            "SET requests/s by appendfsync policy (50 clients)",
            (FAMILY, 24),
        )
        .map_err(drawing)?;
    let panels = root.split_evenly((1, pipelines.len()));
    for (panel, pipeline) in panels.iter().zip(&pipelines) {
        let mine: Vec<&FsyncModeRps> = rows.iter().filter(|r| r.pipeline == *pipeline).collect();
        let ymax = mine
            .iter()
            .map(|r| r.ringkv_rps.max(r.redis_rps))
            .fold(1.0, f64::max)
            * 1.15;
        let n = mine.len() as f64;
        let mut chart = ChartBuilder::on(panel)
            .caption(format!("pipeline {pipeline}"), (FAMILY, 20))
            .margin(15)
            .x_label_area_size(40)
            .y_label_area_size(80)
            // Group i is centred on x = i, so the axis's integer ticks
            // fall under the groups.
            .build_cartesian_2d(-0.5..(n - 0.5), 0.0..ymax)
            .map_err(drawing)?;
        let names: Vec<String> = mine.iter().map(|r| r.appendfsync.clone()).collect();
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(mine.len())
            .x_label_formatter(&|x| {
                if (x - x.round()).abs() > 1e-6 || *x < -0.1 {
                    return String::new();
                }
                names.get(x.round() as usize).cloned().unwrap_or_default()
            })
            .y_label_formatter(&|v| crate::report::thousands(*v))
            .y_desc("requests/s")
            .label_style((FAMILY, 16))
            .axis_desc_style((FAMILY, 18))
            .draw()
            .map_err(drawing)?;
        for (k, (label, pick)) in [
            (
                "ringkv",
                (|r: &FsyncModeRps| r.ringkv_rps) as fn(&FsyncModeRps) -> f64,
            ),
            ("redis", |r: &FsyncModeRps| r.redis_rps),
        ]
        .into_iter()
        .enumerate()
        {
            let c = color(k);
            let left = -0.38 + 0.39 * k as f64;
            chart
                .draw_series(mine.iter().enumerate().map(|(i, r)| {
                    let x = i as f64 + left;
                    Rectangle::new([(x, 0.0), (x + 0.37, pick(r))], c.filled())
                }))
                .map_err(drawing)?
                .label(label)
                .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 16, y + 6)], c.filled()));
        }
        draw_legend(&mut chart, SeriesLabelPosition::UpperRight, 16)?;
    }
    root.present().map_err(drawing)?;
    Ok(())
}

/// The series as CSV: `label,<x_y_header>` then one line per point.
pub fn write_series_csv(path: &Path, x_y_header: &str, series: &[Series]) -> anyhow::Result<()> {
    let mut out = format!("label,{x_y_header}\n");
    for s in series {
        for (x, y) in &s.points {
            out.push_str(&format!("{},{x:.3},{y:.3}\n", s.label));
        }
    }
    std::fs::write(path, out).with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn nines_axis() {
        assert!((nines(0.0) - 0.0).abs() < 1e-9);
        assert!((nines(0.99) - 2.0).abs() < 1e-9);
        assert!((nines(1.0) - 6.0).abs() < 1e-9);
    }

    /// Every chart draws a PNG from plausible data (the font comes from
    /// fonts-dejavu-core, which `scripts/test` installs).
    #[test]
    fn draws_pngs() {
        font().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let s = vec![
            Series {
                label: "a".into(),
                points: vec![(0.0, 0.1), (0.5, 0.2), (0.99, 1.0), (1.0, 3.0)],
            },
            Series {
                label: "b".into(),
                points: vec![(0.0, 0.2), (0.9, 0.4), (0.999, 9.0)],
            },
        ];
        let png = |name: &str| {
            let p = dir.path().join(name);
            let bytes = std::fs::read(&p).unwrap();
            assert!(bytes.starts_with(b"\x89PNG"), "{name}");
        };
        latency_cdf(&dir.path().join("cdf.png"), "t", &s).unwrap();
        png("cdf.png");
        memory_over_time(&dir.path().join("mem.png"), "t", &s).unwrap();
        png("mem.png");
        cow_curve(&dir.path().join("cow.png"), &s).unwrap();
        png("cow.png");
        let rows: Vec<FsyncModeRps> = ["always", "everysec", "no"]
            .iter()
            .flat_map(|m| {
                [1, 16].map(|p| FsyncModeRps {
                    appendfsync: m.to_string(),
                    pipeline: p,
                    ringkv_rps: 1000.0 * p as f64,
                    redis_rps: 800.0 * p as f64,
                })
            })
            .collect();
        appendfsync_rps(&dir.path().join("fsync.png"), &rows).unwrap();
        png("fsync.png");
        write_series_csv(&dir.path().join("s.csv"), "x,y", &s).unwrap();
        assert!(std::fs::read_to_string(dir.path().join("s.csv"))
            .unwrap()
            .starts_with("label,x,y\na,0.000,0.100\n"));
    }
}
