//! AMF0 values of FLV script data (FLV spec v10.1 §E.4.4.1 SCRIPTDATAVALUE; Action Message Format
//! AMF0 §2), read for metadata only.
//!
//! Every read is bounded by the tag's bytes; nesting is bounded by a depth limit and the number of
//! values by [`MAX_VALUES`], so a hostile script tag costs at most a few times its own size.

/// The most values (at every depth) read from one script tag.
pub const MAX_VALUES: usize = 65_536;

/// An AMF0 value (FLV spec v10.1 §E.4.4.1, `Type` 0 to 12).
#[derive(Debug, Clone, PartialEq)]
pub enum AmfValue {
    /// Type 0: an IEEE 754 double.
    Number(f64),
    /// Type 1.
    Boolean(bool),
    /// Type 2 (SCRIPTDATASTRING) and 12 (SCRIPTDATALONGSTRING); invalid UTF-8 is replaced.
    String(String),
    /// Type 3: name/value pairs ending with the end marker.
    Object(Vec<(String, AmfValue)>),
    /// Type 5.
    Null,
    /// Type 6.
    Undefined,
    /// Type 7: an index into earlier complex values (kept as the number).
    Reference(u16),
    /// Type 8: an ECMA array (its approximate length is ignored; pairs run to the end marker).
    EcmaArray(Vec<(String, AmfValue)>),
    /// Type 10: a strict array.
    StrictArray(Vec<AmfValue>),
    /// Type 11: milliseconds since the epoch and the (unused) time zone offset in minutes.
    Date(f64, i16),
}

impl AmfValue {
    /// The number, when this is one.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            AmfValue::Number(n) => Some(*n),
            _ => None,
        }
    }
}

/// Why a script tag could not be read: the offset (inside the tag's data) and the rule broken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmfError {
    /// Byte offset inside the script tag's data.
    pub offset: usize,
    /// What is wrong.
    pub what: String,
}

/// A cursor over the bytes of one script tag.
pub struct AmfReader<'a> {
    data: &'a [u8],
    pos: usize,
    max_depth: usize,
    values: usize,
}

impl<'a> AmfReader<'a> {
    /// A reader over `data` allowing `max_depth` levels of nested objects and arrays.
    pub fn new(data: &'a [u8], max_depth: usize) -> Self {
        AmfReader {
            data,
            pos: 0,
            max_depth,
            values: 0,
        }
    }

    /// Bytes read so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// True when every byte has been read.
    pub fn at_end(&self) -> bool {
        self.pos >= self.data.len()
    }

    fn err<T>(&self, what: impl Into<String>) -> Result<T, AmfError> {
        Err(AmfError {
            offset: self.pos,
            what: what.into(),
        })
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], AmfError> {
        let end = self.pos.checked_add(n);
        match end.and_then(|e| self.data.get(self.pos..e)) {
            Some(b) => {
                self.pos += n;
                Ok(b)
            }
            None => self.err(format!(
                "script data ends: needs {n} bytes, {} left",
                self.data.len().saturating_sub(self.pos)
            )),
        }
    }

    fn u8(&mut self) -> Result<u8, AmfError> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, AmfError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Result<u32, AmfError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn f64(&mut self) -> Result<f64, AmfError> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(f64::from_be_bytes(a))
    }

    /// A SCRIPTDATASTRING: UI16 length and the bytes.
    pub fn short_string(&mut self) -> Result<String, AmfError> {
        let n = usize::from(self.u16()?);
        Ok(String::from_utf8_lossy(self.take(n)?).into_owned())
    }

    fn long_string(&mut self) -> Result<String, AmfError> {
        let n = usize::try_from(self.u32()?).unwrap_or(usize::MAX);
        Ok(String::from_utf8_lossy(self.take(n)?).into_owned())
    }

    /// One SCRIPTDATAVALUE: a type byte and the value.
    pub fn value(&mut self) -> Result<AmfValue, AmfError> {
        self.value_at(0)
    }

    fn value_at(&mut self, depth: usize) -> Result<AmfValue, AmfError> {
        self.values += 1;
        if self.values > MAX_VALUES {
            return self.err(format!("more than {MAX_VALUES} values"));
        }
        let ty = self.u8()?;
        Ok(match ty {
            0 => AmfValue::Number(self.f64()?),
            1 => AmfValue::Boolean(self.u8()? != 0),
            2 => AmfValue::String(self.short_string()?),
            3 => AmfValue::Object(self.pairs(depth)?),
            5 => AmfValue::Null,
            6 => AmfValue::Undefined,
            7 => AmfValue::Reference(self.u16()?),
            8 => {
                // ECMAArrayLength is approximate (§E.4.4.1): the pairs run to the end marker.
                self.u32()?;
                AmfValue::EcmaArray(self.pairs(depth)?)
            }
            10 => {
                let n = self.u32()?;
                self.nest(depth)?;
                // Each value takes at least one byte: the count is bounded by what is left.
                let left = self.data.len().saturating_sub(self.pos);
                if usize::try_from(n).map_or(true, |n| n > left) {
                    return self.err(format!("strict array of {n} values in {left} bytes"));
                }
                let mut v = Vec::new();
                for _ in 0..n {
                    v.push(self.value_at(depth + 1)?);
                }
                AmfValue::StrictArray(v)
            }
            11 => {
                let ms = self.f64()?;
                let tz = self.u16()? as i16;
                AmfValue::Date(ms, tz)
            }
            12 => AmfValue::String(self.long_string()?),
            t => {
                self.pos -= 1;
                return self.err(format!("unknown AMF0 type {t}"));
            }
        })
    }

    fn nest(&self, depth: usize) -> Result<(), AmfError> {
        if depth >= self.max_depth {
            return self.err(format!("nested deeper than {} levels", self.max_depth));
        }
        Ok(())
    }

    /// Name/value pairs up to the end marker (an empty name and type 9).
    fn pairs(&mut self, depth: usize) -> Result<Vec<(String, AmfValue)>, AmfError> {
        self.nest(depth)?;
        let mut out = Vec::new();
        loop {
            // Some muxers end the tag without the end marker: what was read is kept.
            if self.at_end() {
                return Ok(out);
            }
            let name = self.short_string()?;
            if name.is_empty() && self.data.get(self.pos) == Some(&9) {
                self.pos += 1;
                return Ok(out);
            }
            let v = self.value_at(depth + 1)?;
            out.push((name, v));
        }
    }
}
