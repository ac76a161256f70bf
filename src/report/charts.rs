//! Charts as inline SVG, drawn by plotters' SVG backend: stacked columns (counts per week)
//! and horizontal bars (rates, counts per label). An empty data set gives a short notice
//! instead of an empty chart.

use plotters::prelude::*;

use super::html::escape;

/// Width of every chart, pixels.
const WIDTH: u32 = 900;
/// Longest label drawn beside a bar (longer ones are cut with "…").
const MAX_LABEL_CHARS: usize = 72;
/// Font size of labels, pixels (plotters' default scales with the chart's height).
const LABEL_PX: u32 = 12;

/// The discrete range whose segments are the `n` categories (plotters' segmented ranges
/// have one segment per value, both ends included).
fn categories_range(n: usize) -> std::ops::Range<i32> {
    0..i32::try_from(n.saturating_sub(1).max(1)).unwrap_or(i32::MAX)
}

#[derive(Debug, thiserror::Error)]
#[error("chart {title:?}: {reason}")]
pub struct ChartError {
    title: String,
    reason: String,
}

fn failed<E: std::fmt::Display>(title: &str) -> impl Fn(E) -> ChartError + '_ {
    move |e| ChartError {
        title: title.to_string(),
        reason: e.to_string(),
    }
}

/// One named series of a column chart: a value per category.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    pub values: Vec<f64>,
}

/// Stacked columns: one column per category (x), one coloured band per series, a legend.
pub fn stacked_columns(
    title: &str,
    y_label: &str,
    categories: &[String],
    series: &[Series],
) -> Result<String, ChartError> {
    let totals: Vec<f64> = (0..categories.len())
        .map(|i| series.iter().map(|s| s.values.get(i).unwrap_or(&0.0)).sum())
        .collect();
    let max = totals.iter().copied().fold(0.0_f64, f64::max);
    if categories.is_empty() || max <= 0.0 {
        return Ok(no_data(title));
    }
    let height = 360 + 18 * series.len() as u32;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(failed(title))?;
        let (plot, legend) = root.split_vertically(340);
        let mut chart = ChartBuilder::on(&plot)
            .caption(title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(56)
            .build_cartesian_2d(
                categories_range(categories.len()).into_segmented(),
                0.0..max * 1.1,
            )
            .map_err(failed(title))?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .max_light_lines(2)
            .label_style(("sans-serif", LABEL_PX))
            .axis_desc_style(("sans-serif", LABEL_PX))
            .x_labels(categories.len().min(16))
            .x_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) => categories
                    .get(usize::try_from(*i).unwrap_or(usize::MAX))
                    .cloned()
                    .unwrap_or_default(),
                _ => String::new(),
            })
            .y_desc(y_label)
            .y_label_formatter(&|y| whole_number(*y))
            .draw()
            .map_err(failed(title))?;
        let mut base = vec![0.0_f64; categories.len()];
        for (k, s) in series.iter().enumerate() {
            let color = Palette99::pick(k).to_rgba();
            let bars: Vec<Rectangle<(SegmentValue<i32>, f64)>> = (0..categories.len())
                .filter_map(|i| {
                    let v = *s.values.get(i)?;
                    (v > 0.0).then(|| {
                        let x = i as i32;
                        let mut r = Rectangle::new(
                            [
                                (SegmentValue::Exact(x), base[i]),
                                (SegmentValue::Exact(x + 1), base[i] + v),
                            ],
                            color.filled(),
                        );
                        r.set_margin(0, 0, 6, 6);
                        r
                    })
                })
                .collect();
            for (i, b) in base.iter_mut().enumerate() {
                *b += s.values.get(i).copied().unwrap_or(0.0);
            }
            chart.draw_series(bars).map_err(failed(title))?;
        }
        for (k, s) in series.iter().enumerate() {
            let y = 4 + 18 * k as i32;
            let color = Palette99::pick(k).to_rgba();
            legend
                .draw(&Rectangle::new([(70, y), (82, y + 12)], color.filled()))
                .map_err(failed(title))?;
            legend
                .draw(&Text::new(
                    cut(&s.name),
                    (90, y),
                    ("sans-serif", 13).into_font(),
                ))
                .map_err(failed(title))?;
        }
        root.present().map_err(failed(title))?;
    }
    Ok(figure(title, svg))
}

/// Horizontal bars, first item on top, each labelled with `format(value)`.
pub fn bars(
    title: &str,
    x_label: &str,
    items: &[(String, f64)],
    format: &dyn Fn(f64) -> String,
) -> Result<String, ChartError> {
    let max = items.iter().map(|i| i.1).fold(0.0_f64, f64::max);
    if items.is_empty() || max <= 0.0 {
        return Ok(no_data(title));
    }
    let n = items.len();
    let height = 90 + 26 * n as u32;
    let label_width = items
        .iter()
        .map(|(l, _)| cut(l).chars().count())
        .max()
        .unwrap_or(0) as u32
        * 13
        / 2
        + 16;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(failed(title))?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(label_width.min(WIDTH * 11 / 20))
            .build_cartesian_2d(0.0..max * 1.15, categories_range(n).into_segmented())
            .map_err(failed(title))?;
        // Row i (from the bottom) shows item n-1-i, so the first item is on top.
        let label_of = |v: &SegmentValue<i32>| match v {
            SegmentValue::CenterOf(i) => usize::try_from(*i)
                .ok()
                .and_then(|i| n.checked_sub(i + 1))
                .and_then(|k| items.get(k))
                .map(|(l, _)| cut(l))
                .unwrap_or_default(),
            _ => String::new(),
        };
        chart
            .configure_mesh()
            .disable_y_mesh()
            .max_light_lines(2)
            .label_style(("sans-serif", LABEL_PX))
            .axis_desc_style(("sans-serif", LABEL_PX))
            .y_labels(n)
            .y_label_formatter(&label_of)
            .x_desc(x_label)
            .x_label_formatter(&|x| format(*x))
            .draw()
            .map_err(failed(title))?;
        let color = Palette99::pick(0).to_rgba();
        chart
            .draw_series(items.iter().enumerate().map(|(k, (_, v))| {
                let row = (n - 1 - k) as i32;
                let mut r = Rectangle::new(
                    [
                        (0.0, SegmentValue::Exact(row)),
                        (*v, SegmentValue::Exact(row + 1)),
                    ],
                    color.filled(),
                );
                r.set_margin(4, 4, 0, 0);
                r
            }))
            .map_err(failed(title))?;
        chart
            .draw_series(items.iter().enumerate().map(|(k, (_, v))| {
                let row = (n - 1 - k) as i32;
                Text::new(
                    format(*v),
                    (*v + max * 0.01, SegmentValue::CenterOf(row)),
                    ("sans-serif", 12).into_font(),
                )
            }))
            .map_err(failed(title))?;
        root.present().map_err(failed(title))?;
    }
    Ok(figure(title, svg))
}

/// An axis label for a count: the whole numbers only. For small counts the axis places ticks
/// at fractions (0, 0.5, 1, 1.5...), which rounding would show as "0, 1, 1, 2".
pub fn whole_number(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{v:.0}")
    } else {
        String::new()
    }
}

fn cut(label: &str) -> String {
    if label.chars().count() <= MAX_LABEL_CHARS {
        return label.to_string();
    }
    let mut s: String = label.chars().take(MAX_LABEL_CHARS - 1).collect();
    s.push('…');
    s
}

fn figure(title: &str, svg: String) -> String {
    format!(
        "<figure class=\"chart\" aria-label=\"{}\">{svg}</figure>\n",
        escape(title)
    )
}

fn no_data(title: &str) -> String {
    format!(
        "<p class=\"no-data\"><strong>{}</strong>: no data.</p>\n",
        escape(title)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_and_bars_are_svg_with_their_labels_escaped() {
        let svg = stacked_columns(
            "Cards per week",
            "cards",
            &["2026-11-23".into(), "2026-11-30".into()],
            &[
                Series {
                    name: "topic <a> · critical".into(),
                    values: vec![3.0, 1.0],
                },
                Series {
                    name: "topic b · info".into(),
                    values: vec![0.0, 2.0],
                },
            ],
        )
        .unwrap();
        assert!(svg.contains("<svg"), "{svg}");
        assert!(svg.contains("<rect"), "{svg}");
        assert!(svg.contains("2026-11-30"), "{svg}");
        assert!(svg.contains("topic &lt;a&gt;"), "{svg}");
        assert!(!svg.contains("topic <a>"), "{svg}");

        let svg = bars(
            "Override rate",
            "%",
            &[("jaki-sle-contraindicated".into(), 0.4)],
            &|v| format!("{:.0}%", v * 100.0),
        )
        .unwrap();
        assert!(svg.contains("<svg") && svg.contains("40%"), "{svg}");
        // A count axis shows each whole number once, never a rounded fraction (0.5 shown
        // as a second "0").
        let svg = bars(
            "Overrides",
            "overrides",
            &[("a".into(), 2.0), ("b".into(), 1.0)],
            &whole_number,
        )
        .unwrap();
        let texts: Vec<&str> = svg
            .split("<text")
            .skip(1)
            .filter_map(|t| Some(t.split_once('>')?.1.split("</text>").next()?.trim()))
            .collect();
        assert_eq!(texts.iter().filter(|t| **t == "0").count(), 1, "{texts:?}");
        assert!(texts.contains(&"1") && texts.contains(&"2"), "{texts:?}");
        assert_eq!(whole_number(0.5), "");
        assert_eq!(whole_number(3.0), "3");
        assert!(bars("Empty", "", &[], &|v| v.to_string())
            .unwrap()
            .contains("no data"));
    }
}
