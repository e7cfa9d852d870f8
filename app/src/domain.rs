//! Domain values shared by the browser and the server: each `parse` is the one place its rule lives.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Longest email we accept (RFC 5321 path limit).
pub const MAX_EMAIL_LEN: usize = 254;
/// Longest first, last or display name we accept.
pub const MAX_NAME_LEN: usize = 64;
/// Largest image the server accepts after the browser's downscale (bytes, before base64).
pub const MAX_IMAGE_BYTES: usize = 4 * 1024 * 1024;
/// Largest file the browser will try to read and downscale at all.
pub const MAX_PICKED_FILE_BYTES: usize = 25 * 1024 * 1024;
/// Long side, in pixels, the browser downscales to and the server normalises to.
pub const TARGET_LONG_SIDE: u32 = 1600;
/// Largest width or height the server will decode.
pub const MAX_IMAGE_SIDE: u32 = 10_000;
/// Most pixels the server will decode: an 8K screen (7680 × 4320) with room to spare. Decoding
/// holds the output (at most 4 bytes a pixel) and, for a progressive JPEG, every coefficient
/// (2 bytes a pixel for each of 3 components): at most ~400 MB at this ceiling, read from the
/// header before any pixel is decoded (a 10,000 × 8,900 JPEG of a few KB is refused).
pub const MAX_IMAGE_PIXELS: u64 = 40_000_000;

/// A syntactically valid email address, stored lower-cased so comparisons are case-insensitive.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let email = raw.trim();
        if email.is_empty() {
            return Err("Enter your email address.".into());
        }
        if email.len() > MAX_EMAIL_LEN {
            return Err(format!(
                "The email address is longer than {MAX_EMAIL_LEN} characters."
            ));
        }
        let bad = || {
            Err(format!(
                "“{}” is not a valid email address.",
                printable(email)
            ))
        };
        let Some((local, domain)) = email.split_once('@') else {
            return bad();
        };
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            })
            && labels.last().is_some_and(|tld| tld.len() >= 2);
        if local_ok && domain_ok {
            Ok(Self(email.to_ascii_lowercase()))
        } else {
            bad()
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part before the `@`.
    pub fn local_part(&self) -> &str {
        self.0.split('@').next().unwrap_or_default()
    }

    /// The part after the `@`, lower case.
    pub fn domain(&self) -> &str {
        self.0.rsplit('@').next().unwrap_or_default()
    }
}

/// The organisation's email domains (`KIRO_ALLOWED_DOMAINS`). Exact: `example.com` does not
/// admit `eng.example.com`; list each. None listed admits every domain.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AllowedDomains(Vec<String>);

impl AllowedDomains {
    /// Comma-separated domains (`example.com, example.org`; a leading `@` is allowed).
    pub fn parse(raw: &str) -> Result<Self, String> {
        let mut domains = Vec::new();
        for item in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            domains.push(Self::domain(item)?);
        }
        Ok(Self(domains))
    }

    /// One configured domain, lower case (a leading `@` is allowed).
    pub fn domain(item: &str) -> Result<String, String> {
        let domain = item.trim().strip_prefix('@').unwrap_or(item.trim());
        let valid = EmailAddress::parse(&format!("x@{domain}"))
            .map_err(|_| format!("{item:?} is not a domain like example.com"))?;
        Ok(valid.domain().to_owned())
    }

    pub fn permits(&self, email: &EmailAddress) -> bool {
        self.0.is_empty() || self.0.iter().any(|d| d == email.domain())
    }

    /// The domains, as configured (lower case).
    pub fn as_slice(&self) -> &[String] {
        &self.0
    }
}

impl TryFrom<String> for EmailAddress {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<EmailAddress> for String {
    fn from(value: EmailAddress) -> Self {
        value.0
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A person's first, last or display name: trimmed, not empty, short, no control characters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonName(String);

impl PersonName {
    /// `field` names the input in the error message ("first name").
    pub fn parse(raw: &str, field: &str) -> Result<Self, String> {
        let name = raw.trim();
        if name.is_empty() {
            return Err(format!("The {field} is empty."));
        }
        if name.chars().count() > MAX_NAME_LEN {
            return Err(format!(
                "The {field} is longer than {MAX_NAME_LEN} characters."
            ));
        }
        if name.chars().any(char::is_control) {
            return Err(format!("The {field} contains control characters."));
        }
        Ok(Self(name.to_owned()))
    }

    /// An optional field: blank means absent.
    pub fn parse_optional(raw: Option<&str>, field: &str) -> Result<Option<Self>, String> {
        match raw.map(str::trim) {
            None | Some("") => Ok(None),
            Some(name) => Self::parse(name, field).map(Some),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The display name shown in the directory: the given one, else "First Last", else the email's local part.
pub fn display_name(
    given: Option<&PersonName>,
    first: Option<&PersonName>,
    last: Option<&PersonName>,
    email: &EmailAddress,
) -> String {
    if let Some(name) = given {
        return name.as_str().to_owned();
    }
    let joined = [first, last]
        .into_iter()
        .flatten()
        .map(PersonName::as_str)
        .collect::<Vec<_>>()
        .join(" ");
    if joined.is_empty() {
        email.local_part().to_owned()
    } else {
        joined
    }
}

/// The image formats we accept, recognised by their magic bytes (never by name or declared type).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ImageKind {
    Png,
    Jpeg,
    Webp,
}

impl ImageKind {
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(Self::Png)
        } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(Self::Jpeg)
        } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
            Some(Self::Webp)
        } else {
            None
        }
    }

    pub fn mime(self) -> &'static str {
        match self {
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
            Self::Webp => "image/webp",
        }
    }

    /// What to tell someone whose file is not one of ours.
    pub fn rejection(bytes: &[u8]) -> String {
        let head = String::from_utf8_lossy(&bytes[..bytes.len().min(256)]).to_ascii_lowercase();
        if head.contains("<svg") || head.contains("<?xml") {
            "SVG images are not accepted: take a PNG, JPEG or WebP screenshot.".into()
        } else {
            "That file is not a PNG, JPEG or WebP image.".into()
        }
    }
}

/// Accepts base64 with or without a `data:image/...;base64,` prefix and with line breaks.
pub fn decode_base64_image(raw: &str) -> Result<Vec<u8>, String> {
    use base64::Engine;
    let payload = match raw.trim_start().strip_prefix("data:") {
        Some(rest) => match rest.split_once(',') {
            Some((meta, data)) if meta.ends_with(";base64") => data,
            _ => return Err("The data: URL is not base64-encoded.".into()),
        },
        None => raw,
    };
    let compact: String = payload
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    if compact.is_empty() {
        return Err("The image is empty.".into());
    }
    base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .map_err(|_| "The image is not valid base64.".into())
}

/// Human-readable size for messages ("4 MB").
pub fn megabytes(bytes: usize) -> String {
    format!("{} MB", number(bytes as f64 / 1_048_576.0))
}

/// A count for people: whole numbers without decimals ("50"), others with at most two ("2.5",
/// "12.34"). The one number format of the app.
pub fn number(n: f64) -> String {
    let text = format!("{n:.2}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".into()
    } else {
        text.into()
    }
}

/// The size an image is scaled to so its long side is at most `TARGET_LONG_SIDE`: the one
/// formula the browser (before upload) and the server (before analysis) both use.
pub fn downscaled_size(width: u32, height: u32) -> (u32, u32) {
    let long_side = width.max(height);
    if long_side <= TARGET_LONG_SIDE {
        return (width, height);
    }
    let scale = f64::from(TARGET_LONG_SIDE) / f64::from(long_side);
    (
        ((f64::from(width) * scale).round() as u32).max(1),
        ((f64::from(height) * scale).round() as u32).max(1),
    )
}

/// At most 80 of the characters of `s` that are not control characters: fit to quote back.
pub fn printable(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).take(80).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allowed_domains_admit_exactly_the_listed_ones() {
        let email = |e: &str| EmailAddress::parse(e).unwrap();
        let allowed = AllowedDomains::parse(" Example.com, @example.org ,").unwrap();
        assert_eq!(allowed.as_slice(), ["example.com", "example.org"]);
        assert!(allowed.permits(&email("ada@EXAMPLE.com")));
        assert!(allowed.permits(&email("bob@example.org")));
        for outside in [
            "ada@eng.example.com",
            "ada@example.com.evil.io",
            "ada@notexample.com",
            "example.com@evil.io",
        ] {
            assert!(!allowed.permits(&email(outside)), "{outside}");
        }
        assert!(AllowedDomains::parse("")
            .unwrap()
            .permits(&email("a@any.io")));
        for bad in ["example", "*.example.com", "a@b.com", "exa mple.com"] {
            assert!(AllowedDomains::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn numbers_read_alike_everywhere() {
        for (n, text) in [
            (50.0, "50"),
            (2.5, "2.5"),
            (2.50, "2.5"),
            (12.345, "12.35"),
            (0.0, "0"),
            (-0.001, "0"),
            (1000.0, "1000"),
        ] {
            assert_eq!(number(n), text, "{n}");
        }
    }

    #[test]
    fn downscaling_keeps_the_aspect_and_never_enlarges() {
        assert_eq!(downscaled_size(2560, 1600), (1600, 1000));
        assert_eq!(downscaled_size(1600, 3200), (800, 1600));
        assert_eq!(downscaled_size(1200, 800), (1200, 800));
        assert_eq!(downscaled_size(100_000, 1), (1600, 1));
    }

    #[test]
    fn accepts_ordinary_emails_and_lowercases_them() {
        let e = EmailAddress::parse("  Alice.Smith+kiro@Example.COM ").unwrap();
        assert_eq!(e.as_str(), "alice.smith+kiro@example.com");
        assert_eq!(e.local_part(), "alice.smith+kiro");
    }

    #[test]
    fn rejects_malformed_emails() {
        for bad in [
            "",
            "alice",
            "alice@",
            "@example.com",
            "alice@example",
            "alice@@example.com",
            "alice@exa mple.com",
            "al ice@example.com",
            ".alice@example.com",
            "alice..b@example.com",
            "alice@-example.com",
            "alice@example.c",
            "alice\n@example.com",
            "<script>@example.com",
        ] {
            assert!(
                EmailAddress::parse(bad).is_err(),
                "{bad:?} should be rejected"
            );
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(EmailAddress::parse(&long).unwrap_err().contains("254"));
    }

    #[test]
    fn names_are_trimmed_bounded_and_free_of_control_characters() {
        assert_eq!(
            PersonName::parse("  Ada ", "first name").unwrap().as_str(),
            "Ada"
        );
        assert!(PersonName::parse("", "first name").is_err());
        assert!(PersonName::parse("Ada\u{7}", "first name")
            .unwrap_err()
            .contains("control"));
        assert!(PersonName::parse(&"x".repeat(65), "last name")
            .unwrap_err()
            .contains("64"));
        assert_eq!(PersonName::parse_optional(Some("   "), "x").unwrap(), None);
        assert_eq!(PersonName::parse_optional(None, "x").unwrap(), None);
    }

    #[test]
    fn display_name_prefers_given_then_names_then_local_part() {
        let email = EmailAddress::parse("ada@example.com").unwrap();
        let first = PersonName::parse("Ada", "f").unwrap();
        let last = PersonName::parse("Lovelace", "l").unwrap();
        let given = PersonName::parse("The Countess", "d").unwrap();
        assert_eq!(
            display_name(Some(&given), Some(&first), None, &email),
            "The Countess"
        );
        assert_eq!(
            display_name(None, Some(&first), Some(&last), &email),
            "Ada Lovelace"
        );
        assert_eq!(display_name(None, None, Some(&last), &email), "Lovelace");
        assert_eq!(display_name(None, None, None, &email), "ada");
    }

    #[test]
    fn images_are_recognised_by_magic_bytes() {
        assert_eq!(
            ImageKind::sniff(b"\x89PNG\r\n\x1a\n...."),
            Some(ImageKind::Png)
        );
        assert_eq!(
            ImageKind::sniff(&[0xFF, 0xD8, 0xFF, 0xE0]),
            Some(ImageKind::Jpeg)
        );
        assert_eq!(
            ImageKind::sniff(b"RIFF\0\0\0\0WEBPVP8 "),
            Some(ImageKind::Webp)
        );
        assert_eq!(ImageKind::sniff(b"GIF89a"), None);
        assert!(ImageKind::rejection(b"<svg xmlns=").contains("SVG"));
        assert!(!ImageKind::rejection(b"hello").contains("SVG"));
    }

    #[test]
    fn base64_images_decode_with_or_without_a_data_url_prefix() {
        assert_eq!(decode_base64_image("aGVsbG8=").unwrap(), b"hello");
        assert_eq!(
            decode_base64_image("data:image/png;base64,aGVs\nbG8=").unwrap(),
            b"hello"
        );
        assert!(decode_base64_image("data:image/png,hello").is_err());
        assert!(decode_base64_image("!!!").is_err());
        assert!(decode_base64_image("  ").is_err());
    }
}
