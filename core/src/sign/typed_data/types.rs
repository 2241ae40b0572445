//! The `types` of typed data: the type grammar, struct names and fields,
//! cycles and nesting depth.

use super::*;

/// A validated EIP-712 type. Its `Display` is the canonical type string,
/// which is also what was given (the grammar admits no other spelling).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Kind {
    Bool,
    Address,
    String,
    Bytes,
    FixedBytes(usize),
    Uint(usize),
    Int(usize),
    Struct(String),
    /// Elements and, for a fixed array, the length.
    Array(Box<Kind>, Option<usize>),
}

impl Kind {
    /// The struct this type is made of, looking through arrays.
    pub(super) fn struct_name(&self) -> Option<&str> {
        match self {
            Kind::Struct(name) => Some(name),
            Kind::Array(inner, _) => inner.struct_name(),
            _ => None,
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Kind::Bool => f.write_str("bool"),
            Kind::Address => f.write_str("address"),
            Kind::String => f.write_str("string"),
            Kind::Bytes => f.write_str("bytes"),
            Kind::FixedBytes(n) => write!(f, "bytes{n}"),
            Kind::Uint(bits) => write!(f, "uint{bits}"),
            Kind::Int(bits) => write!(f, "int{bits}"),
            Kind::Struct(name) => f.write_str(name),
            Kind::Array(inner, None) => write!(f, "{inner}[]"),
            Kind::Array(inner, Some(n)) => write!(f, "{inner}[{n}]"),
        }
    }
}

#[derive(Debug)]
pub(super) struct Field {
    pub(super) name: String,
    pub(super) kind: Kind,
}

/// Struct name to its fields, in declared order.
pub(super) type Structs = BTreeMap<String, Vec<Field>>;

pub(super) fn parse_types(value: &Value, path: &str) -> Result<Structs, InvalidField> {
    let Value::Object(types) = value else {
        return Err(invalid(path, "must be an object mapping struct names to arrays of {name, type}"));
    };
    if types.len() > MAX_TYPES {
        return Err(invalid(
            path,
            format!("defines {} structs; Rossignol takes at most {MAX_TYPES}", types.len()),
        ));
    }
    // Names first, so that a field may refer to a struct defined after it.
    for name in types.keys() {
        check_struct_name(name, &format!("{path}.{}", shown(name)))?;
    }
    let mut structs = Structs::new();
    for (name, fields) in types {
        let fields = parse_fields(fields, types, &format!("{path}.{name}"))?;
        structs.insert(name.clone(), fields);
    }
    Ok(structs)
}

pub(super) fn parse_fields(
    value: &Value,
    types: &Map<String, Value>,
    path: &str,
) -> Result<Vec<Field>, InvalidField> {
    let Value::Array(entries) = value else {
        return Err(invalid(path, "must be an array of {name, type} objects"));
    };
    if entries.len() > MAX_FIELDS {
        return Err(invalid(
            path,
            format!("has {} fields; Rossignol takes at most {MAX_FIELDS}", entries.len()),
        ));
    }
    let mut fields: Vec<Field> = Vec::with_capacity(entries.len());
    for (i, entry) in entries.iter().enumerate() {
        let path = format!("{path}[{i}]");
        let Value::Object(entry) = entry else {
            return Err(invalid(&path, "must be an object with `name` and `type`"));
        };
        only_known(entry, &path, &["name", "type"])?;
        let text = |key: &str| match entry.get(key) {
            Some(Value::String(text)) => Ok(text),
            Some(_) => Err(invalid(&format!("{path}.{key}"), "must be a string")),
            None => Err(invalid(&format!("{path}.{key}"), "is missing")),
        };
        let name = text("name")?;
        let name_path = format!("{path}.name");
        if !is_identifier(name, |c| c == '$', |c| c == '$') {
            return Err(invalid(
                &name_path,
                "must be an identifier: ASCII letters, digits, _ and $, not starting with a digit",
            ));
        }
        if fields.iter().any(|field| field.name == *name) {
            return Err(invalid(
                &name_path,
                format!("repeats the field `{}`; field names must be unique", shown(name)),
            ));
        }
        let kind = parse_type(text("type")?, types, &format!("{path}.type"))?;
        fields.push(Field { name: name.clone(), kind });
    }
    Ok(fields)
}

/// ASCII letters, digits and `_`, plus what `extra_start`/`extra` allow,
/// not starting with a digit.
pub(super) fn is_identifier(name: &str, extra_start: fn(char) -> bool, extra: fn(char) -> bool) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || extra_start(c))
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || extra(c))
}

pub(super) fn check_struct_name(name: &str, path: &str) -> Result<(), InvalidField> {
    // `encodeType` lists referenced structs sorted by name. Alloy sorts the
    // whole `Name(…)` strings, ethers the names; `$` sorts before `(` and
    // would make them disagree, so it is refused.
    if !is_identifier(name, |_| false, |c| c == ':') {
        return Err(invalid(
            path,
            "is not a struct name: use ASCII letters, digits, _ and :, not starting with a digit",
        ));
    }
    match atomic(name) {
        Ok(None) => Ok(()),
        Ok(Some(_)) | Err(_) => Err(invalid(path, "is a Solidity type name; give the struct another name")),
    }
}

/// Parses a field's type: a base type followed by array suffixes, where
/// `T[2][]` is a dynamic array of `T[2]`.
pub(super) fn parse_type(text: &str, types: &Map<String, Value>, path: &str) -> Result<Kind, InvalidField> {
    let (base, mut suffixes) = text.split_at(text.find('[').unwrap_or(text.len()));
    let mut kind = match atomic(base) {
        Ok(Some(kind)) => kind,
        Err(reason) => return Err(invalid(path, reason)),
        Ok(None) if types.contains_key(base) => Kind::Struct(base.to_owned()),
        Ok(None) => {
            return Err(invalid(
                path,
                format!(
                    "names an unknown type `{}`; define it in `types` or use a Solidity type",
                    shown(base)
                ),
            ));
        }
    };
    let mut dimensions = 0;
    while !suffixes.is_empty() {
        let Some((length, rest)) = suffixes.strip_prefix('[').and_then(|s| s.split_once(']')) else {
            return Err(invalid(path, "has a malformed array suffix; write T[] or T[N]"));
        };
        dimensions += 1;
        if dimensions > MAX_DEPTH {
            return Err(invalid(
                path,
                format!("nests more than {MAX_DEPTH} arrays; Rossignol signs at most {MAX_DEPTH} levels"),
            ));
        }
        let length = match length {
            "" => None,
            digits => Some(array_length(digits).ok_or_else(|| {
                invalid(
                    path,
                    format!(
                        "has a bad array length `{}`; give a decimal from 1 to {MAX_VALUES}",
                        shown(digits)
                    ),
                )
            })?),
        };
        kind = Kind::Array(Box::new(kind), length);
        suffixes = rest;
    }
    Ok(kind)
}

/// A fixed array's length: decimal, no leading zero, 1 to [`MAX_VALUES`]
/// (a longer array could never be given a value).
pub(super) fn array_length(digits: &str) -> Option<usize> {
    if digits.starts_with('0') || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().filter(|n| (1..=MAX_VALUES).contains(n))
}

/// The atomic type `name` stands for, `Ok(None)` if it is not a Solidity
/// type name (so possibly a struct), or why it cannot be used.
pub(super) fn atomic(name: &str) -> Result<Option<Kind>, String> {
    let sized = |prefix: &str| {
        name.strip_prefix(prefix)
            .filter(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
            .map(|digits| if digits.starts_with('0') { None } else { digits.parse::<usize>().ok() })
    };
    let kind = match name {
        "bool" => Kind::Bool,
        "address" => Kind::Address,
        "string" => Kind::String,
        "bytes" => Kind::Bytes,
        "uint" | "int" => {
            return Err(format!("is `{name}` without a size; write `{name}256`, the name EIP-712 hashes"));
        }
        "byte" => return Err("is `byte`, which EIP-712 does not define; write `bytes1`".into()),
        "function" | "fixed" | "ufixed" => return Err(format!("is `{name}`, which has no EIP-712 encoding")),
        _ => {
            if let Some(size) = sized("bytes") {
                match size {
                    Some(n @ 1..=32) => Kind::FixedBytes(n),
                    _ => {
                        return Err(format!(
                            "names `{}`, which is not a type; bytesN takes N from 1 to 32",
                            shown(name)
                        ));
                    }
                }
            } else if let Some(size) = sized("uint").or_else(|| sized("int")) {
                match size {
                    Some(bits @ 8..=256) if bits % 8 == 0 && name.starts_with('u') => Kind::Uint(bits),
                    Some(bits @ 8..=256) if bits % 8 == 0 => Kind::Int(bits),
                    _ => {
                        return Err(format!(
                            "names `{}`, which is not a type; integer sizes are 8 to 256 in steps of 8",
                            shown(name)
                        ));
                    }
                }
            } else if name.starts_with("fixed") || name.starts_with("ufixed") {
                return Err("names a fixed-point type, which has no EIP-712 encoding".into());
            } else {
                return Ok(None);
            }
        }
    };
    Ok(Some(kind))
}

/// Refuses a struct that contains itself, directly or through other structs
/// or arrays: its values would be infinite, and alloy and ethers refuse it.
pub(super) fn check_acyclic(structs: &Structs, path: &str) -> Result<(), InvalidField> {
    #[derive(PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    // Recursion is bounded by the number of structs (MAX_TYPES).
    pub(super) fn visit<'a>(
        name: &'a str,
        structs: &'a Structs,
        marks: &mut BTreeMap<&'a str, Mark>,
        stack: &mut Vec<&'a str>,
    ) -> Option<Vec<&'a str>> {
        match marks.get(name) {
            Some(Mark::Done) => return None,
            Some(Mark::Open) => {
                let start = stack.iter().position(|open| *open == name)?;
                let mut cycle = stack[start..].to_vec();
                cycle.push(name);
                return Some(cycle);
            }
            None => {}
        }
        marks.insert(name, Mark::Open);
        stack.push(name);
        for field in structs.get(name).into_iter().flatten() {
            if let Some(cycle) = field.kind.struct_name().and_then(|next| visit(next, structs, marks, stack))
            {
                return Some(cycle);
            }
        }
        stack.pop();
        marks.insert(name, Mark::Done);
        None
    }

    let mut marks = BTreeMap::new();
    for name in structs.keys() {
        if let Some(cycle) = visit(name, structs, &mut marks, &mut Vec::new()) {
            let names: Vec<_> = cycle.iter().map(|name| shown(name)).collect();
            return Err(invalid(
                &format!("{path}.{}", names[0]),
                format!(
                    "is part of a cycle ({}); a struct cannot contain itself, even through arrays",
                    names.join(" → ")
                ),
            ));
        }
    }
    Ok(())
}

/// How many struct and array levels a value of `kind` nests; the types are
/// acyclic by now, and each struct's depth is computed once.
pub(super) fn depth_of(kind: &Kind, structs: &Structs, known: &mut BTreeMap<String, usize>) -> usize {
    match kind {
        Kind::Array(inner, _) => 1 + depth_of(inner, structs, known),
        Kind::Struct(name) => {
            if let Some(depth) = known.get(name) {
                return *depth;
            }
            let fields = structs.get(name).map(Vec::as_slice).unwrap_or_default();
            let depth =
                1 + fields.iter().map(|field| depth_of(&field.kind, structs, known)).max().unwrap_or(0);
            known.insert(name.clone(), depth);
            depth
        }
        _ => 0,
    }
}
