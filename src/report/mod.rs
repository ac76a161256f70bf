//! What the CDS committee reads: the `report` command's text and HTML output (figures from
//! [`crate::store::Report`]) and the charts shared with the cohort's summary page. HTML
//! pages are self-contained: inline style and inline SVG charts drawn by plotters.

pub mod charts;
pub mod committee;
pub mod html;
pub mod text;
