//! The message checked against its types and written canonically.

use super::*;

/// Checks a message against its types and writes it canonically. Recursion
/// follows the types, so it is at most [`MAX_DEPTH`] deep.
pub(super) struct Walker<'a> {
    pub(super) structs: &'a Structs,
    /// Values still allowed, so a huge message is refused, not walked.
    pub(super) budget: usize,
}

impl Walker<'_> {
    pub(super) fn value(&mut self, kind: &Kind, value: &Value, path: &str) -> Result<Value, InvalidField> {
        self.budget = self
            .budget
            .checked_sub(1)
            .ok_or_else(|| invalid(path, format!("is past the limit of {MAX_VALUES} values in a message")))?;
        match kind {
            Kind::Bool => {
                value.as_bool().map(Value::Bool).ok_or_else(|| invalid(path, "must be true or false"))
            }
            Kind::String => string(value, path).map(Value::String),
            Kind::Address => address(value, path).map(|address| address.to_storage().into()),
            Kind::Bytes => {
                hex_bytes(value, None, path).map(|bytes| format!("0x{}", hex::encode(bytes)).into())
            }
            Kind::FixedBytes(n) => {
                hex_bytes(value, Some(*n), path).map(|bytes| format!("0x{}", hex::encode(bytes)).into())
            }
            Kind::Uint(bits) => {
                integer(value, *bits, false, path).map(|(_, magnitude)| magnitude.to_string().into())
            }
            Kind::Int(bits) => integer(value, *bits, true, path).map(|(negative, magnitude)| {
                Value::String(if negative { format!("-{magnitude}") } else { magnitude.to_string() })
            }),
            Kind::Array(inner, length) => self.array(inner, *length, value, path),
            Kind::Struct(name) => self.structure(name, value, path),
        }
    }

    pub(super) fn array(
        &mut self,
        inner: &Kind,
        length: Option<usize>,
        value: &Value,
        path: &str,
    ) -> Result<Value, InvalidField> {
        let Value::Array(items) = value else {
            return Err(invalid(path, format!("must be an array of {inner}")));
        };
        if let Some(length) = length.filter(|length| *length != items.len()) {
            return Err(invalid(
                path,
                format!("has {}; {inner}[{length}] takes exactly {length}", count(items.len(), "element")),
            ));
        }
        items
            .iter()
            .enumerate()
            .map(|(i, item)| self.value(inner, item, &format!("{path}[{i}]")))
            .collect::<Result<_, _>>()
            .map(Value::Array)
    }

    pub(super) fn structure(&mut self, name: &str, value: &Value, path: &str) -> Result<Value, InvalidField> {
        let declared = self.structs.get(name).map(Vec::as_slice).unwrap_or_default();
        let Value::Object(given) = value else {
            return Err(invalid(path, format!("must be an object: a {}", shown(name))));
        };
        if let Some(extra) = given.keys().find(|key| !declared.iter().any(|field| field.name == **key)) {
            let names: Vec<_> = declared.iter().map(|field| field.name.as_str()).collect();
            return Err(invalid(
                &format!("{path}.{}", shown(extra)),
                format!(
                    "is not a field of {}, which has {}; remove or rename it",
                    shown(name),
                    names.join(", ")
                ),
            ));
        }
        let mut canonical = Map::new();
        for field in declared {
            let path = format!("{path}.{}", field.name);
            let value = given.get(&field.name).ok_or_else(|| {
                invalid(&path, format!("is missing: {} has it as {}; give it", shown(name), field.kind))
            })?;
            canonical.insert(field.name.clone(), self.value(&field.kind, value, &path)?);
        }
        Ok(Value::Object(canonical))
    }
}

/// "1 byte", "2 bytes".
pub(super) fn count(n: usize, noun: &str) -> String {
    if n == 1 { format!("1 {noun}") } else { format!("{n} {noun}s") }
}

pub(super) fn string(value: &Value, path: &str) -> Result<String, InvalidField> {
    value.as_str().map(str::to_owned).ok_or_else(|| invalid(path, "must be a string"))
}

pub(super) fn address(value: &Value, path: &str) -> Result<Address, InvalidField> {
    let text =
        value.as_str().ok_or_else(|| invalid(path, "must be an address string: 0x and 40 hex digits"))?;
    Address::parse(text).map_err(|e| invalid(path, format!("is not an address: {e}")))
}

/// `0x` and whole bytes of hex, exactly `length` of them when given.
pub(super) fn hex_bytes(value: &Value, length: Option<usize>, path: &str) -> Result<Vec<u8>, InvalidField> {
    let what = match length {
        Some(n) => format!("must be 0x followed by {} of hex", count(n, "byte")),
        None => "must be 0x followed by hex digits, whole bytes".to_owned(),
    };
    let digits =
        value.as_str().and_then(|text| text.strip_prefix("0x")).ok_or_else(|| invalid(path, &what))?;
    if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(invalid(path, what));
    }
    let bytes = hex::decode(digits)
        .map_err(|_| invalid(path, "is hex of odd length: give whole bytes (0x0a, not 0xa)"))?;
    match length {
        Some(n) if bytes.len() != n => {
            Err(invalid(path, format!("has {}; bytes{n} takes exactly {n}", count(bytes.len(), "byte"))))
        }
        _ => Ok(bytes),
    }
}

/// An integer of `bits` bits, signed or not, as (negative, magnitude): a
/// JSON integer, a decimal string or 0x hex, with a leading `-` when
/// negative. JSON numbers with a fraction or exponent, or too large for
/// 64 bits, are refused: they arrive already rounded.
pub(super) fn integer(
    value: &Value,
    bits: usize,
    signed: bool,
    path: &str,
) -> Result<(bool, U256), InvalidField> {
    let kind = if signed { format!("int{bits}") } else { format!("uint{bits}") };
    let what = || {
        let sign = if signed { ", with a leading - when negative" } else { "" };
        invalid(
            path,
            format!("must be an integer ({kind}): a JSON integer, a decimal string or 0x hex{sign}"),
        )
    };
    let (negative, magnitude) = match value {
        Value::Number(number) => match (number.as_u64(), number.as_i64()) {
            (Some(n), _) => (false, U256::from(n)),
            (None, Some(n)) => (true, U256::from(n.unsigned_abs())),
            (None, None) => {
                return Err(invalid(
                    path,
                    format!(
                        "is a JSON number that is not an exact integer; give the {kind} as a decimal string"
                    ),
                ));
            }
        },
        Value::String(text) => integer_text(text).ok_or_else(what)?,
        _ => return Err(what()),
    };
    let negative = negative && !magnitude.is_zero();
    // The largest magnitude a negative value may have, and a positive one.
    let (most_negative, most_positive) = if signed {
        let half = U256::from(1u8) << (bits - 1);
        (half, half - U256::from(1u8))
    } else {
        (U256::ZERO, U256::MAX >> (256 - bits))
    };
    let in_range = if negative { magnitude <= most_negative } else { magnitude <= most_positive };
    if !in_range {
        let range = if signed {
            format!("-2^{} to 2^{} - 1", bits - 1, bits - 1)
        } else {
            format!("0 to 2^{bits} - 1")
        };
        return Err(invalid(path, format!("is out of range: {kind} takes {range}")));
    }
    Ok((negative, magnitude))
}

/// `123`, `-123`, `0x7b`, `-0x7b` (or `0X`): sign and magnitude, if the
/// text is one of those and fits in 256 bits.
pub(super) fn integer_text(text: &str) -> Option<(bool, U256)> {
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (digits, radix) = match unsigned.strip_prefix("0x").or_else(|| unsigned.strip_prefix("0X")) {
        Some(hex) => (hex, 16),
        None => (unsigned, 10),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    U256::from_str_radix(digits, u64::from(radix)).ok().map(|magnitude| (negative, magnitude))
}
