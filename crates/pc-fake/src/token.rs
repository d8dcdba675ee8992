//! Opaque continuation tokens that look like the real ones: they carry the
//! position of a listing and contain `/`, `+`, `=` and `,`, so a client that
//! puts them in a URL or trims them breaks visibly. A token is bound to its
//! listing (a customer's users, a role's members, the partner's customers):
//! it is refused by any other.

/// Where a listing is and how it is sorted and filtered.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Position {
    pub(crate) offset: u32,
    pub(crate) size: u16,
    pub(crate) sort: u8,
    pub(crate) descending: bool,
    pub(crate) inactive: bool,
    /// The listing's filter in the fake's own form (e.g. `c:contoso` for the
    /// customers whose company name starts with `contoso`); empty for none.
    pub(crate) filter: String,
}

/// The payload's alphabet (URL-safe base64): `/` and `+` only ever appear
/// as the separators around it, so a payload of any text splits back.
const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn base64(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// URL-safe base64 without padding, as JWTs and Entra ID's tokens use it.
pub(crate) fn base64url(bytes: &[u8]) -> String {
    let mut text = base64(bytes);
    while text.ends_with('=') {
        text.pop();
    }
    text
}

fn unbase64(text: &str) -> Option<Vec<u8>> {
    let mut bits = 0u32;
    let mut count = 0;
    let mut out = Vec::new();
    for c in text.bytes().filter(|&c| c != b'=') {
        let value = ALPHABET.iter().position(|&a| a == c)? as u32;
        bits = (bits << 6) | value;
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
        }
    }
    Some(out)
}

fn checksum(text: &str, customer: u32) -> u16 {
    let mut hash: u32 = 0x811c_9dc5 ^ customer;
    for b in text.bytes() {
        hash = (hash ^ u32::from(b)).wrapping_mul(0x0100_0193);
    }
    (hash >> 16) as u16
}

/// A stable hash of a customer id, case-insensitive.
pub(crate) fn customer_hash(customer: &str) -> u32 {
    let mut hash: u32 = 0x811c_9dc5;
    for b in customer.to_ascii_lowercase().bytes() {
        hash = (hash ^ u32::from(b)).wrapping_mul(0x0100_0193);
    }
    hash
}

/// The token for `position` in the listing `scope` (e.g. a customer id).
pub(crate) fn encode(position: &Position, scope: &str) -> String {
    let c = customer_hash(scope);
    let payload = format!(
        "{}.{}.{}.{}.{}.{}",
        position.offset,
        position.size,
        position.sort,
        position.descending as u8,
        position.inactive as u8,
        position.filter
    );
    let b64 = base64(payload.as_bytes());
    format!(
        "{c:08x},{b64}/{:04x}+{:x}=,{:08x}",
        checksum(&payload, c),
        position.size,
        c ^ 0x5eed_f00d
    )
}

/// The position a token points to, if it is a token of the listing `scope`
/// that this fake issued.
pub(crate) fn decode(token: &str, scope: &str) -> Option<Position> {
    let c = customer_hash(scope);
    let (head, rest) = token.split_once(',')?;
    let (middle, _tail) = rest.rsplit_once(',')?;
    if u32::from_str_radix(head, 16).ok()? != c {
        return None;
    }
    let (b64, after) = middle.split_once('/')?;
    let (sum, _) = after.split_once('+')?;
    let payload = String::from_utf8(unbase64(b64)?).ok()?;
    if u16::from_str_radix(sum, 16).ok()? != checksum(&payload, c) {
        return None;
    }
    let mut fields = payload.splitn(6, '.');
    let position = Position {
        offset: fields.next()?.parse().ok()?,
        size: fields.next()?.parse().ok()?,
        sort: fields.next()?.parse().ok()?,
        descending: fields.next()? == "1",
        inactive: fields.next()? == "1",
        filter: fields.next()?.to_owned(),
    };
    Some(position)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_with_every_awkward_character() {
        let position = Position {
            offset: 12_345,
            size: 500,
            sort: 2,
            descending: true,
            inactive: false,
            filter: "c:contoso/+?.ltd".to_owned(),
        };
        let token = encode(&position, "4d3cf487-70f4-4e1e-9ff1-b2bfce8d9f04");
        for c in ['/', '+', '=', ','] {
            assert!(token.contains(c), "{token}");
        }
        assert_eq!(
            decode(&token, "4D3CF487-70F4-4E1E-9FF1-B2BFCE8D9F04"),
            Some(position.clone())
        );
        assert_eq!(decode(&token, "another-customer"), None);
        assert_eq!(
            decode(
                &token.replace('+', " "),
                "4d3cf487-70f4-4e1e-9ff1-b2bfce8d9f04"
            ),
            None
        );
        assert_eq!(decode("garbage", "x"), None);
    }

    #[test]
    fn base64_round_trip() {
        for text in [
            "",
            "a",
            "ab",
            "abc",
            "abcd",
            "0.100.0.0.0",
            "c:\u{fffd}?>~/+",
        ] {
            assert_eq!(
                unbase64(&base64(text.as_bytes())).as_deref(),
                Some(text.as_bytes())
            );
        }
    }
}
