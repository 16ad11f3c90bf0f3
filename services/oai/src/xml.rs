//! A small streaming XML writer: elements, attributes and text, escaped,
//! with characters XML 1.0 cannot carry (C0 controls other than tab, line
//! feed and carriage return; unpaired surrogates cannot occur in Rust
//! strings; U+FFFE and U+FFFF) left out, so that no record's content can
//! make a response ill-formed.

/// Builds one XML document in memory.
#[derive(Debug, Default)]
pub struct XmlWriter {
    out: String,
    open: Vec<&'static str>,
    /// A start tag is written up to its attributes and not yet closed.
    in_tag: bool,
}

impl XmlWriter {
    /// A document starting with the XML declaration.
    pub fn document() -> XmlWriter {
        let mut writer = XmlWriter::default();
        writer
            .out
            .push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        writer
    }

    /// Opens `<name attr="value" ...>`.
    pub fn open(&mut self, name: &'static str, attributes: &[(&str, &str)]) -> &mut Self {
        self.close_tag();
        self.out.push('<');
        self.out.push_str(name);
        for (key, value) in attributes {
            self.out.push(' ');
            self.out.push_str(key);
            self.out.push_str("=\"");
            escape_into(&mut self.out, value, true);
            self.out.push('"');
        }
        self.open.push(name);
        self.in_tag = true;
        self
    }

    /// Closes the innermost open element (as `<x/>` when it holds nothing).
    pub fn close(&mut self) -> &mut Self {
        let Some(name) = self.open.pop() else {
            return self;
        };
        if self.in_tag {
            self.out.push_str("/>");
            self.in_tag = false;
        } else {
            self.out.push_str("</");
            self.out.push_str(name);
            self.out.push('>');
        }
        self
    }

    /// Escaped text inside the current element.
    pub fn text(&mut self, text: &str) -> &mut Self {
        self.close_tag();
        escape_into(&mut self.out, text, false);
        self
    }

    /// `<name attrs>text</name>`.
    pub fn element(
        &mut self,
        name: &'static str,
        attributes: &[(&str, &str)],
        text: &str,
    ) -> &mut Self {
        self.open(name, attributes).text(text).close()
    }

    /// As [`XmlWriter::element`], written only when `text` holds something
    /// other than white space.
    pub fn element_if(
        &mut self,
        name: &'static str,
        attributes: &[(&str, &str)],
        text: &str,
    ) -> &mut Self {
        if !text.trim().is_empty() {
            self.element(name, attributes, text.trim());
        }
        self
    }

    /// The document, every open element closed.
    pub fn finish(mut self) -> String {
        while !self.open.is_empty() {
            self.close();
        }
        self.out.push('\n');
        self.out
    }

    fn close_tag(&mut self) {
        if self.in_tag {
            self.out.push('>');
            self.in_tag = false;
        }
    }
}

/// Whether XML 1.0 can carry `c` at all.
fn allowed(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}')
}

fn escape_into(out: &mut String, text: &str, attribute: bool) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            // Attribute values normalise white space; keep it as written.
            '\t' | '\n' | '\r' if attribute => {
                out.push_str(&format!("&#{};", c as u32));
            }
            c if allowed(c) => out.push(c),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_text_and_attributes_is_escaped() {
        let mut xml = XmlWriter::default();
        xml.element("a", &[("b", "x\"<&>'\n")], "<script>&amp;</script>");
        assert_eq!(
            xml.finish(),
            "<a b=\"x&quot;&lt;&amp;&gt;'&#10;\">&lt;script&gt;&amp;amp;&lt;/script&gt;</a>\n"
        );
    }

    #[test]
    fn characters_xml_cannot_carry_are_left_out() {
        let mut xml = XmlWriter::default();
        xml.element("t", &[], "a\u{0}b\u{1b}c\u{FFFF}d\tê");
        assert_eq!(xml.finish(), "<t>abcd\tê</t>\n");
    }

    #[test]
    fn empty_elements_close_themselves_and_finish_closes_the_rest() {
        let mut xml = XmlWriter::default();
        xml.open("a", &[])
            .open("b", &[("k", "v")])
            .close()
            .open("c", &[]);
        assert_eq!(xml.finish(), "<a><b k=\"v\"/><c/></a>\n");
    }
}
