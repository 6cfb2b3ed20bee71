//! A contribution's plaintext read as records, in the DAO's format, normalized so that the
//! same data gives the same records however it was written.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The format a DAO accepts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Format {
	/// One JSON document: an array of records, or one object holding an array of records at
	/// `records` (a JSON pointer such as `/messages`), or one object as a single record.
	/// Each record must match `schema` (JSON Schema) when one is given.
	Json {
		#[serde(default)]
		records: Option<String>,
		#[serde(default)]
		schema: Option<Value>,
	},
	/// CSV with a header row that has at least `required_columns`.
	Csv { required_columns: Vec<String> },
	/// Anything, one record per non-empty line (UTF-8 or not).
	Raw,
}

/// What reading found: the records, each as normalized bytes, and the count of fields that
/// were empty (`""`, `null`, `[]`, `{}` or an empty CSV cell) among `fields`.
#[derive(Debug, Default)]
pub struct Records {
	pub items: Vec<Vec<u8>>,
	pub fields: u64,
	pub empty_fields: u64,
	/// The value of the ownership field of each record that has one (see `Ownership`).
	pub owners: Vec<String>,
}

/// Why the plaintext is not in the DAO's format: the reason stored on chain (short).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FormatError(pub String);

fn bad(reason: impl Into<String>) -> FormatError {
	let mut r: String = reason.into();
	// On-chain reasons are at most 128 bytes.
	if r.len() > 120 {
		let mut cut = 120;
		while !r.is_char_boundary(cut) {
			cut -= 1;
		}
		r.truncate(cut);
		r.push('…');
	}
	FormatError(r)
}

/// Reads `plain` as `format`. `owner_field` names the field (JSON pointer within a record,
/// or CSV column) whose values are collected into `owners`.
pub fn read(
	plain: &[u8],
	format: &Format,
	owner_field: Option<&str>,
) -> Result<Records, FormatError> {
	match format {
		Format::Json { records, schema } => {
			read_json(plain, records.as_deref(), schema.as_ref(), owner_field)
		},
		Format::Csv { required_columns } => read_csv(plain, required_columns, owner_field),
		Format::Raw => Ok(read_raw(plain)),
	}
}

fn count_fields(value: &Value, out: &mut Records) {
	match value {
		Value::Object(map) => {
			for v in map.values() {
				out.fields += 1;
				let empty = match v {
					Value::Null => true,
					Value::String(s) => s.trim().is_empty(),
					Value::Array(a) => a.is_empty(),
					Value::Object(o) => o.is_empty(),
					_ => false,
				};
				out.empty_fields += u64::from(empty);
			}
		},
		_ => out.fields += 1,
	}
}

fn read_json(
	plain: &[u8],
	pointer: Option<&str>,
	schema: Option<&Value>,
	owner_field: Option<&str>,
) -> Result<Records, FormatError> {
	let doc: Value = serde_json::from_slice(plain).map_err(|e| bad(format!("not JSON: {e}")))?;
	let items: Vec<&Value> = match (pointer, &doc) {
		(Some(p), _) => match doc.pointer(p) {
			Some(Value::Array(a)) => a.iter().collect(),
			Some(_) => return Err(bad(format!("{p} is not an array of records"))),
			None => return Err(bad(format!("no {p} in the document"))),
		},
		(None, Value::Array(a)) => a.iter().collect(),
		(None, v) => vec![v],
	};
	if items.is_empty() {
		return Err(bad("no records"));
	}
	let validator = match schema {
		Some(s) => Some(
			jsonschema::validator_for(s)
				.map_err(|e| bad(format!("the DAO's schema is invalid: {e}")))?,
		),
		None => None,
	};
	let mut out = Records::default();
	for (i, item) in items.iter().enumerate() {
		if let Some(v) = &validator {
			if let Some(error) = v.iter_errors(item).next() {
				// The reason goes on chain: it names where and which rule, never the value
				// (the validator's own message quotes the data).
				return Err(bad(format!(
					"record {i} breaks the schema at {} (rule {})",
					error.instance_path(),
					error.schema_path()
				)));
			}
		}
		count_fields(item, &mut out);
		if let Some(owner) = owner_field.and_then(|p| item.pointer(p)).and_then(Value::as_str) {
			out.owners.push(owner.to_owned());
		}
		// serde_json's maps are sorted by key: this is a canonical form of the record.
		out.items.push(serde_json::to_vec(item).expect("a Value always serializes"));
	}
	Ok(out)
}

fn read_csv(
	plain: &[u8],
	required: &[String],
	owner_field: Option<&str>,
) -> Result<Records, FormatError> {
	let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(false).from_reader(plain);
	let headers = reader.headers().map_err(|e| bad(format!("not CSV: {e}")))?.clone();
	let names: Vec<String> = headers.iter().map(|h| h.trim().to_owned()).collect();
	for column in required {
		if !names.iter().any(|n| n == column) {
			return Err(bad(format!("no column {column:?}")));
		}
	}
	let owner_index = owner_field.and_then(|f| names.iter().position(|n| n == f));
	let mut out = Records::default();
	for (i, row) in reader.records().enumerate() {
		let row = row.map_err(|e| bad(format!("CSV row {}: {e}", i + 1)))?;
		let mut record = Vec::new();
		for (j, cell) in row.iter().enumerate() {
			let cell = cell.trim();
			out.fields += 1;
			out.empty_fields += u64::from(cell.is_empty());
			if j > 0 {
				record.push(0x1f);
			}
			record.extend_from_slice(cell.as_bytes());
		}
		if let Some(owner) = owner_index.and_then(|k| row.get(k)) {
			out.owners.push(owner.trim().to_owned());
		}
		out.items.push(record);
	}
	if out.items.is_empty() {
		return Err(bad("no rows"));
	}
	Ok(out)
}

fn read_raw(plain: &[u8]) -> Records {
	let mut out = Records::default();
	// A final newline ends the last line; it does not start an empty one.
	let plain = plain.strip_suffix(b"\n").unwrap_or(plain);
	for line in plain.split(|&b| b == b'\n') {
		let line = line.strip_suffix(b"\r").unwrap_or(line);
		out.fields += 1;
		if line.iter().all(u8::is_ascii_whitespace) {
			out.empty_fields += 1;
			continue;
		}
		out.items.push(line.to_vec());
	}
	out
}

#[cfg(test)]
mod tests {
	use serde_json::json;

	use super::*;

	#[test]
	fn json_records_are_canonical_whatever_the_key_order_and_spacing() {
		let a = read(br#"[{"b":1,"a":"x"}]"#, &Format::Json { records: None, schema: None }, None)
			.unwrap();
		let b = read(
			b"[ {\"a\" : \"x\",\n \"b\": 1} ]",
			&Format::Json { records: None, schema: None },
			None,
		)
		.unwrap();
		assert_eq!(a.items, b.items);
	}

	#[test]
	fn schemas_and_pointers() {
		let format = Format::Json {
			records: Some("/messages".into()),
			schema: Some(
				json!({"type": "object", "required": ["text", "at"], "properties": {"at": {"type": "integer"}}}),
			),
		};
		let ok = read(br#"{"messages":[{"text":"hi","at":1},{"text":"","at":2}]}"#, &format, None)
			.unwrap();
		assert_eq!((ok.items.len(), ok.fields, ok.empty_fields), (2, 4, 1));
		let e = read(br#"{"messages":[{"text":"hi","at":"noon"}]}"#, &format, None).unwrap_err();
		assert!(
			e.0.contains("record 0 breaks the schema at /at (rule /properties/at/type)"),
			"{e}"
		);
		// the reason goes on chain: it must not quote the contributor's data
		assert!(!e.0.contains("noon"), "{e}");
		assert!(read(br#"{"other":[]}"#, &format, None).unwrap_err().0.contains("no /messages"));
		assert!(read(b"{", &format, None).unwrap_err().0.starts_with("not JSON"));
		assert!(read(br#"{"messages":[]}"#, &format, None).unwrap_err().0.contains("no records"));
	}

	#[test]
	fn csv_columns_rows_and_owners() {
		let format = Format::Csv { required_columns: vec!["account".into(), "text".into()] };
		let r = read(b"account,text\n5Grw,hello\n5Grw, \n", &format, Some("account")).unwrap();
		assert_eq!((r.items.len(), r.fields, r.empty_fields), (2, 4, 1));
		assert_eq!(r.owners, ["5Grw", "5Grw"]);
		assert!(read(b"text\nhello\n", &format, None)
			.unwrap_err()
			.0
			.contains("no column \"account\""));
		assert!(read(b"account,text\nx\n", &format, None).unwrap_err().0.contains("CSV row 1"));
	}

	#[test]
	fn long_reasons_fit_on_chain() {
		let e = bad("é".repeat(200));
		assert!(e.0.len() <= 128);
	}
}
