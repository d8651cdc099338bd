//! A run's convergence over time as an SVG line chart (plotters): one line
//! per series of the record, seconds since the start on x.

use std::path::Path;

use anyhow::Context;
use plotters::prelude::*;

use crate::record::Record;

const COLOURS: [RGBColor; 4] = [RGBColor(31, 119, 180), RGBColor(214, 39, 40), RGBColor(44, 160, 44), RGBColor(148, 103, 189)];

/// Draws `record`'s series into `path`.
pub fn svg(record: &Record, path: &Path) -> anyhow::Result<()> {
    let points = record.series.iter().flat_map(|s| s.points.iter());
    let (x_max, y_max) = points.fold((0.0f64, 0.0f64), |(x, y), (px, py)| (x.max(*px), y.max(*py)));
    let (x_max, y_max) = (x_max.max(0.1) * 1.02, y_max.max(1.0) * 1.05);
    let draw = || -> Result<(), Box<dyn std::error::Error>> {
        let root = SVGBackend::new(path, (800, 450)).into_drawing_area();
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(format!("{} ({})", record.id(), record.size_text()), ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(0.0..x_max, 0.0..y_max)?;
        chart.configure_mesh().x_desc("seconds").y_desc(record.series.first().map_or("", |s| s.name.as_str())).draw()?;
        for (i, s) in record.series.iter().enumerate() {
            let colour = COLOURS[i % COLOURS.len()];
            chart
                .draw_series(LineSeries::new(s.points.iter().copied(), colour.stroke_width(2)))?
                .label(s.name.clone())
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], colour.stroke_width(2)));
        }
        chart.configure_series_labels().position(SeriesLabelPosition::LowerRight).border_style(BLACK).background_style(WHITE).draw()?;
        root.present()?;
        Ok(())
    };
    draw().map_err(|e| anyhow::anyhow!("{e}")).with_context(|| format!("plotting {}", path.display()))
}
