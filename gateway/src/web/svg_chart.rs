//! Bar charts drawn on the server as SVG: no script, no web font, styled by
//! the stylesheet's classes (the Content-Security-Policy allows no inline
//! style). Each bar's label sits above it, so long Vietnamese field names
//! stay readable on a phone, and the chart carries a title for screen
//! readers, which also get the same figures as a table.

use maud::{Markup, html};

/// Drawing width in SVG units; the stylesheet scales the chart to its box.
const WIDTH: u32 = 600;
const ROW: u32 = 46;
const BAR: u32 = 14;
/// Room right of the longest bar for its count.
const VALUE_ROOM: u32 = 90;

/// One bar.
pub struct Bar {
    pub label: String,
    pub count: u64,
}

/// A horizontal bar chart; `id` must be unique on the page.
pub fn bar_chart(id: &str, title: &str, bars: &[Bar], format: impl Fn(u64) -> String) -> Markup {
    let max = bars.iter().map(|bar| bar.count).max().unwrap_or(0).max(1);
    let height = ROW * u32::try_from(bars.len()).unwrap_or(u32::MAX / ROW).max(1) + 8;
    let span = WIDTH - VALUE_ROOM;
    let title_id = format!("{id}-title");
    html! {
        svg.chart id=(id) xmlns="http://www.w3.org/2000/svg" role="img"
            aria-labelledby=(title_id) viewBox={ "0 0 " (WIDTH) " " (height) }
            width=(WIDTH) height=(height) {
            title id=(title_id) { (title) }
            @for (index, bar) in bars.iter().enumerate() {
                @let top = ROW * u32::try_from(index).unwrap_or(0);
                // Scaled in u64 (counts may be large), at least a sliver.
                @let length = u32::try_from(bar.count.saturating_mul(u64::from(span)) / max).unwrap_or(span).max(if bar.count > 0 { 2 } else { 0 });
                text x="0" y=(top + 16) { (bar.label) }
                rect.bar x="0" y=(top + 22) width=(length) height=(BAR) {}
                text.value x=(length + 6) y=(top + 34) { (format(bar.count)) }
            }
            line.axis x1="0" y1="0" x2="0" y2=(height - 4) {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_largest_and_labels_are_escaped() {
        let bars = [
            Bar {
                label: "<script>alert(1)</script>".into(),
                count: 10,
            },
            Bar {
                label: "Trồng trọt".into(),
                count: 5,
            },
            Bar {
                label: "zero".into(),
                count: 0,
            },
        ];
        let svg = bar_chart("c", "Theo lĩnh vực", &bars, |n| n.to_string()).into_string();
        assert!(!svg.contains("<script>"), "{svg}");
        assert!(svg.contains("&lt;script&gt;"));
        assert!(svg.contains(&format!("width=\"{}\"", WIDTH - VALUE_ROOM)));
        assert!(svg.contains(&format!("width=\"{}\"", (WIDTH - VALUE_ROOM) / 2)));
        assert!(svg.contains("width=\"0\""));
        assert!(svg.contains("<title id=\"c-title\">Theo lĩnh vực</title>"));
        assert!(!svg.contains("style="));
    }
}
