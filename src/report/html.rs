//! One self-contained HTML page (inline style, inline SVG, no script, nothing fetched) and
//! the small pieces the reports are made of: escaped text and tables.

use std::fmt::Write;

/// Escape text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:960px;\
color:#222;line-height:1.4}h1{font-size:1.6rem}h2{font-size:1.3rem;margin-top:2.5rem;\
border-bottom:1px solid #ccc}h3{font-size:1.05rem}table{border-collapse:collapse;margin:1rem 0}\
th,td{border:1px solid #ddd;padding:.25rem .6rem;text-align:left;font-size:.9rem}\
td.n{text-align:right}figure.chart{margin:1rem 0}p.meta{color:#555}p.no-data{color:#777}";

/// A page with a title, a line of metadata and the body sections.
pub fn page(title: &str, meta: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>{t}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{t}</h1>\n\
         <p class=\"meta\">{m}</p>\n{body}</body>\n</html>\n",
        t = escape(title),
        m = escape(meta),
    )
}

/// A table: header cells, then rows; cells that parse as numbers are right-aligned.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = String::from("<table>\n<tr>");
    for h in header {
        let _ = write!(out, "<th>{}</th>", escape(h));
    }
    out.push_str("</tr>\n");
    for row in rows {
        out.push_str("<tr>");
        for cell in row {
            let numeric = cell.trim_end_matches('%').parse::<f64>().is_ok();
            let class = if numeric { " class=\"n\"" } else { "" };
            let _ = write!(out, "<td{class}>{}</td>", escape(cell));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_and_tables_escape_their_text() {
        assert_eq!(escape("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
        let html = page(
            "T <x>",
            "m",
            &table(&["k", "n"], &[vec!["<i>".into(), "4".into()]]),
        );
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(html.contains("<title>T &lt;x&gt;</title>"));
        assert!(html.contains("<td>&lt;i&gt;</td><td class=\"n\">4</td>"));
        assert!(!html.contains("<script"));
    }
}
