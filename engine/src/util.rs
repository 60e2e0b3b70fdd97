//! Number parsing and formatting with Redis's exact rules.

/// Parses `bytes` as an i64 only if it is in canonical form (no leading `+`,
/// no leading zeros, no spaces, at most 20 bytes), like Redis's `string2ll`.
pub fn parse_canonical_i64(bytes: &[u8]) -> Option<i64> {
    if bytes.is_empty() || bytes.len() > 20 {
        return None;
    }
    if bytes.len() == 1 && bytes[0] == b'0' {
        return Some(0);
    }
    let (neg, digits) = match bytes[0] {
        b'-' => (true, &bytes[1..]),
        _ => (false, bytes),
    };
    if digits.is_empty() || digits[0] == b'0' {
        return None;
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as u64)?;
    }
    if neg {
        if v > i64::MAX as u64 + 1 {
            None
        } else {
            Some((v as i128).wrapping_neg() as i64)
        }
    } else if v > i64::MAX as u64 {
        None
    } else {
        Some(v as i64)
    }
}

/// Formats a double the way C's `printf("%.17g")` does, which is how Redis 7.0
/// replies with scores (`ZSCORE`, `WITHSCORES`, RESP2 doubles).
pub fn format_double_g17(d: f64) -> String {
    if d.is_nan() {
        return "nan".to_string();
    }
    if d.is_infinite() {
        return if d > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    if d == 0.0 {
        return if d.is_sign_negative() { "-0" } else { "0" }.to_string();
    }
    const PRECISION: i32 = 17;
    // Scientific form with PRECISION significant digits gives the exponent
    // after rounding, which decides %g's style.
    let sci = format!("{:.*e}", (PRECISION - 1) as usize, d);
    let (mantissa, exp) = match sci.split_once('e') {
        Some((m, e)) => (m, e.parse::<i32>().unwrap_or(0)),
        None => (sci.as_str(), 0),
    };
    if !(-4..PRECISION).contains(&exp) {
        let m = trim_fraction_zeros(mantissa);
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{m}e{sign}{:02}", exp.abs())
    } else {
        let decimals = (PRECISION - 1 - exp).max(0) as usize;
        let fixed = format!("{:.*}", decimals, d);
        trim_fraction_zeros(&fixed).to_string()
    }
}

fn trim_fraction_zeros(s: &str) -> &str {
    if !s.contains('.') {
        return s;
    }
    let t = s.trim_end_matches('0');
    t.strip_suffix('.').unwrap_or(t)
}

/// Longest float argument Redis accepts (`MAX_LONG_DOUBLE_CHARS`).
pub const LONG_DOUBLE_CHARS_MAX: usize = 5 * 1024;

/// An x87 80-bit extended-precision number ("long double" on the x86-64 Linux
/// Redis builds): a 64-bit mantissa with an explicit top bit.
///
/// INCRBYFLOAT and HINCRBYFLOAT compute in long double and print the result
/// with `%.17Lf`, so `0.1 + 0.2` gives `0.3` but `1000 + 0.1` gives
/// `1000.09999999999999998`. f64 arithmetic reproduces neither, so this type
/// emulates the format exactly: correctly rounded parsing (like glibc's
/// `strtold`), correctly rounded addition, exact decimal formatting.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LongDouble {
    /// `mant * 2^exp`; `mant == 0` is zero.
    Finite {
        neg: bool,
        mant: u64,
        exp: i32,
    },
    Inf {
        neg: bool,
    },
    Nan,
}

/// Smallest exponent of the lowest mantissa bit (subnormals included).
const LD_EXP_MIN: i64 = -16445;
/// Values at or above `2^LD_MAG_LIMIT` overflow to infinity.
const LD_MAG_LIMIT: i64 = 16384;

impl LongDouble {
    pub const ZERO: LongDouble = LongDouble::Finite {
        neg: false,
        mant: 0,
        exp: 0,
    };

    pub fn from_i64(i: i64) -> LongDouble {
        let n = big::Big::from_u128(i.unsigned_abs() as u128);
        round_big(i < 0, &n, 0, false)
    }

    pub fn is_finite(self) -> bool {
        matches!(self, LongDouble::Finite { .. })
    }

    /// Parses like Redis's `getLongDoubleFromObject` (strtold in the C locale):
    /// decimal or hex floats, `inf`/`infinity`/`nan`, optional sign; no
    /// surrounding spaces, nothing trailing; overflow, underflow to zero and
    /// NaN are rejected.
    pub fn parse(bytes: &[u8]) -> Option<LongDouble> {
        if bytes.is_empty() || bytes.len() >= LONG_DOUBLE_CHARS_MAX {
            return None;
        }
        // string2ld requires strtold to consume all `slen` bytes, so an
        // embedded NUL makes the value invalid (checked against 7.0.15).
        if bytes.contains(&0) {
            return None;
        }
        // strtold would skip leading whitespace, but Redis's string2ld
        // rejects it (isspace(buf[0])).
        if bytes
            .first()
            .is_some_and(|&b| matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'))
        {
            return None;
        }
        let (neg, body) = match bytes.first() {
            Some(b'-') => (true, &bytes[1..]),
            Some(b'+') => (false, &bytes[1..]),
            _ => (false, bytes),
        };
        if body.eq_ignore_ascii_case(b"inf") || body.eq_ignore_ascii_case(b"infinity") {
            return Some(LongDouble::Inf { neg });
        }
        let parsed = if body.len() > 2 && body[0] == b'0' && (body[1] | 0x20) == b'x' {
            parse_hex(neg, &body[2..])?
        } else {
            parse_decimal(neg, body)?
        };
        match parsed {
            // strtold sets ERANGE on overflow and on underflow to zero.
            LongDouble::Inf { .. } | LongDouble::Nan => None,
            v => Some(v),
        }
    }

    /// Correctly rounded sum (round to nearest, ties to even).
    pub fn plus(self, other: LongDouble) -> LongDouble {
        use LongDouble::{Finite, Inf, Nan};
        match (self, other) {
            (Nan, _) | (_, Nan) => Nan,
            (Inf { neg: a }, Inf { neg: b }) if a != b => Nan,
            (Inf { neg }, _) | (_, Inf { neg }) => Inf { neg },
            (
                Finite {
                    mant: 0, neg: a, ..
                },
                Finite {
                    mant: 0, neg: b, ..
                },
            ) => Finite {
                neg: a && b,
                mant: 0,
                exp: 0,
            },
            (Finite { mant: 0, .. }, x) | (x, Finite { mant: 0, .. }) => x,
            (
                Finite {
                    neg: an,
                    mant: am,
                    exp: ae,
                },
                Finite {
                    neg: bn,
                    mant: bm,
                    exp: be,
                },
            ) => add_finite((an, am, ae as i64), (bn, bm, be as i64)),
        }
    }

    /// Formats like Redis's `ld2string(.., LD_STR_HUMAN)`: `%.17Lf`, trailing
    /// fraction zeros and a bare `.` removed, `-0` printed as `0`.
    /// `None` for infinities and NaN, which Redis never stores.
    pub fn format_human(self) -> Option<String> {
        let LongDouble::Finite { neg, mant, exp } = self else {
            return None;
        };
        const DECIMALS: u32 = 17;
        let scale = 10u64.pow(DECIMALS);
        let (int_part, frac_digits) = if exp >= 0 {
            let mut i = big::Big::from_u128(mant as u128);
            i.shl(exp as u32);
            (i, 0u64)
        } else {
            let k = (-exp) as u32;
            let mut int_part = big::Big::from_u128(mant as u128);
            int_part.shr(k);
            let mut frac = big::Big::from_u128(mant as u128);
            frac.truncate_bits(k);
            // 10^17 does not fit a u32: multiply in two steps.
            frac.mul_small(1_000_000_000);
            frac.mul_small(100_000_000);
            let round_bit = frac.bit(k - 1);
            let below = frac.any_below(k - 1);
            let mut q = frac.clone();
            q.shr(k);
            let mut q = q.low_u64();
            if round_bit && (below || q & 1 == 1) {
                q += 1;
            }
            if q == scale {
                q = 0;
                int_part.add_small(1);
            }
            (int_part, q)
        };
        let mut s = String::new();
        if neg {
            s.push('-');
        }
        s.push_str(&int_part.to_decimal());
        s.push('.');
        s.push_str(&format!("{:017}", frac_digits));
        let t = s.trim_end_matches('0');
        let t = t.strip_suffix('.').unwrap_or(t);
        let out = if t == "-0" { "0" } else { t };
        Some(out.to_string())
    }
}

fn add_finite(a: (bool, u64, i64), b: (bool, u64, i64)) -> LongDouble {
    let top = |x: &(bool, u64, i64)| x.2 + 64 - x.1.leading_zeros() as i64;
    let (big_op, mut small_op) = if top(&a) >= top(&b) { (a, b) } else { (b, a) };
    // Far below the rounding point, only the sign of the small operand
    // matters: a single bit there rounds the same way.
    const GAP_BITS: i64 = 140;
    if top(&big_op) - top(&small_op) > GAP_BITS {
        small_op = (small_op.0, 1, top(&big_op) - GAP_BITS);
    }
    let emin = big_op.2.min(small_op.2);
    let mut x = big::Big::from_u128(big_op.1 as u128);
    x.shl((big_op.2 - emin) as u32);
    let mut y = big::Big::from_u128(small_op.1 as u128);
    y.shl((small_op.2 - emin) as u32);
    if big_op.0 == small_op.0 {
        x.add(&y);
        round_big(big_op.0, &x, emin, false)
    } else {
        match x.cmp(&y) {
            std::cmp::Ordering::Equal => LongDouble::ZERO,
            std::cmp::Ordering::Greater => {
                x.sub(&y);
                round_big(big_op.0, &x, emin, false)
            }
            std::cmp::Ordering::Less => {
                y.sub(&x);
                round_big(small_op.0, &y, emin, false)
            }
        }
    }
}

/// Rounds `n * 2^exp` (plus a nonzero amount below it when `sticky`) to the
/// nearest long double, ties to even.
fn round_big(neg: bool, n: &big::Big, exp: i64, sticky: bool) -> LongDouble {
    let len = n.bit_len() as i64;
    if len == 0 {
        return LongDouble::Finite {
            neg,
            mant: 0,
            exp: 0,
        };
    }
    // Drop bits beyond 64 significant ones, or below the subnormal floor.
    let drop = (len - 64).max(LD_EXP_MIN - exp).max(0);
    let (mut mant, mut e) = if drop == 0 {
        (n.low_u64(), exp)
    } else if drop > len {
        (0, exp + drop)
    } else {
        let d = drop as u32;
        let round_bit = n.bit(d - 1);
        let below = sticky || n.any_below(d - 1);
        let mut q = n.clone();
        q.shr(d);
        let mut m = q.low_u64() as u128;
        if round_bit && (below || m & 1 == 1) {
            m += 1;
        }
        let mut e = exp + drop;
        if m >> 64 != 0 {
            m >>= 1;
            e += 1;
        }
        (m as u64, e)
    };
    if mant == 0 {
        return LongDouble::Finite {
            neg,
            mant: 0,
            exp: 0,
        };
    }
    // Normalise so the top bit is set where the exponent allows.
    while mant >> 63 == 0 && e > LD_EXP_MIN {
        mant <<= 1;
        e -= 1;
    }
    if e + 64 > LD_MAG_LIMIT {
        return LongDouble::Inf { neg };
    }
    LongDouble::Finite {
        neg,
        mant,
        exp: e as i32,
    }
}

/// Digits, an optional `.` and digits, an optional exponent introduced by
/// `marker`. Returns (all digits, digits after the point, exponent), or None
/// if the syntax is wrong or there are no digits.
fn split_float(body: &[u8], is_digit: fn(u8) -> bool, marker: u8) -> Option<(Vec<u8>, i64, i64)> {
    let mut digits = Vec::new();
    let mut frac_digits = 0i64;
    let mut i = 0;
    while i < body.len() && is_digit(body[i]) {
        digits.push(body[i]);
        i += 1;
    }
    if i < body.len() && body[i] == b'.' {
        i += 1;
        while i < body.len() && is_digit(body[i]) {
            digits.push(body[i]);
            frac_digits += 1;
            i += 1;
        }
    }
    if digits.is_empty() {
        return None;
    }
    let mut exp = 0i64;
    if i < body.len() && (body[i] | 0x20) == marker {
        i += 1;
        let neg = match body.get(i) {
            Some(b'-') => {
                i += 1;
                true
            }
            Some(b'+') => {
                i += 1;
                false
            }
            _ => false,
        };
        let start = i;
        while i < body.len() && body[i].is_ascii_digit() {
            // Saturate: anything this large overflows or underflows anyway.
            exp = (exp * 10 + (body[i] - b'0') as i64).min(1 << 40);
            i += 1;
        }
        if i == start {
            return None;
        }
        if neg {
            exp = -exp;
        }
    }
    if i != body.len() {
        return None;
    }
    Some((digits, frac_digits, exp))
}

fn parse_decimal(neg: bool, body: &[u8]) -> Option<LongDouble> {
    if body.eq_ignore_ascii_case(b"nan") {
        return Some(LongDouble::Nan);
    }
    let (digits, frac_digits, exp) = split_float(body, |b| b.is_ascii_digit(), b'e')?;
    let mut d = big::Big::from_u128(0);
    for chunk in digits.chunks(9) {
        let v = chunk.iter().fold(0u32, |v, &c| v * 10 + (c - b'0') as u32);
        d.mul_small(10u32.pow(chunk.len() as u32));
        d.add_small(v);
    }
    if d.is_zero() {
        return Some(LongDouble::Finite {
            neg,
            mant: 0,
            exp: 0,
        });
    }
    let e10 = exp - frac_digits;
    // |value| >= 10^(e10 + significant digits - 1); long double spans about
    // 10^-4951 .. 10^4932.
    let leading_zeros = digits.iter().take_while(|&&c| c == b'0').count();
    let magnitude = e10 + (digits.len() - leading_zeros) as i64;
    if magnitude > 4940 {
        return Some(LongDouble::Inf { neg });
    }
    if magnitude < -4960 {
        return None; // underflow to zero: ERANGE
    }
    if e10 >= 0 {
        d.mul_pow10(e10 as u32);
        return Some(round_big(neg, &d, 0, false));
    }
    let mut divisor = big::Big::from_u128(1);
    divisor.mul_pow10((-e10) as u32);
    // Scale the dividend so the quotient carries at least 66 bits, and cut
    // it so the quotient carries at most ~130: bits far below the rounding
    // point only matter as "something nonzero was there" (sticky).
    const QUOTIENT_BITS_MAX: i64 = 130;
    let shift = (66 + divisor.bit_len() as i64 - d.bit_len() as i64).max(0);
    d.shl(shift as u32);
    let excess = (d.bit_len() as i64 - divisor.bit_len() as i64 - QUOTIENT_BITS_MAX).max(0);
    let dropped_nonzero = excess > 0 && d.any_below(excess as u32);
    d.shr(excess as u32);
    let (q, rem_nonzero) = d.div_rem(&divisor);
    let v = round_big(neg, &q, excess - shift, rem_nonzero || dropped_nonzero);
    if matches!(v, LongDouble::Finite { mant: 0, .. }) {
        return None; // underflow to zero: ERANGE
    }
    Some(v)
}

fn parse_hex(neg: bool, body: &[u8]) -> Option<LongDouble> {
    let (digits, frac_digits, exp) = split_float(body, |b| b.is_ascii_hexdigit(), b'p')?;
    let mut h = big::Big::from_u128(0);
    for &c in &digits {
        let v = (c as char).to_digit(16)?;
        h.mul_small(16);
        h.add_small(v);
    }
    let e2 = exp - 4 * frac_digits;
    if e2 + h.bit_len() as i64 > LD_MAG_LIMIT {
        return Some(LongDouble::Inf { neg });
    }
    if e2 < LD_EXP_MIN - 64 * 1024 {
        return None;
    }
    let v = round_big(neg, &h, e2, false);
    if matches!(v, LongDouble::Finite { mant: 0, .. }) && !h.is_zero() {
        return None;
    }
    Some(v)
}

/// Why an INCRBYFLOAT-style increment failed; the messages are Redis's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IncrFloatError {
    #[error("ERR value is not a valid float")]
    NotAFloat,
    #[error("ERR increment would produce NaN or Infinity")]
    NanOrInfinity,
}

/// `current + incr` as INCRBYFLOAT computes and prints it. `current` is the
/// stored string (None for a missing key, which counts as 0).
pub fn incr_by_float(current: Option<&[u8]>, incr: &[u8]) -> Result<String, IncrFloatError> {
    let base = match current {
        None => LongDouble::ZERO,
        Some(c) => LongDouble::parse(c).ok_or(IncrFloatError::NotAFloat)?,
    };
    let incr = LongDouble::parse(incr).ok_or(IncrFloatError::NotAFloat)?;
    base.plus(incr)
        .format_human()
        .ok_or(IncrFloatError::NanOrInfinity)
}

/// Just enough unsigned big-integer arithmetic for exact long double
/// conversions (at most ~33k bits).
mod big {
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Big {
        /// Little-endian 32-bit limbs, no trailing zero limbs.
        limbs: Vec<u32>,
    }

    impl Big {
        pub fn from_u128(v: u128) -> Big {
            let mut b = Big {
                limbs: (0..4).map(|i| (v >> (32 * i)) as u32).collect(),
            };
            b.trim();
            b
        }

        fn trim(&mut self) {
            while self.limbs.last() == Some(&0) {
                self.limbs.pop();
            }
        }

        pub fn is_zero(&self) -> bool {
            self.limbs.is_empty()
        }

        pub fn bit_len(&self) -> u32 {
            match self.limbs.last() {
                None => 0,
                Some(top) => 32 * self.limbs.len() as u32 - top.leading_zeros(),
            }
        }

        pub fn bit(&self, i: u32) -> bool {
            self.limbs
                .get((i / 32) as usize)
                .is_some_and(|l| (l >> (i % 32)) & 1 == 1)
        }

        /// True if any bit below position `i` is set.
        pub fn any_below(&self, i: u32) -> bool {
            let full = (i / 32) as usize;
            if self.limbs.iter().take(full).any(|&l| l != 0) {
                return true;
            }
            let rem = i % 32;
            rem != 0
                && self
                    .limbs
                    .get(full)
                    .is_some_and(|&l| l & ((1u32 << rem) - 1) != 0)
        }

        pub fn low_u64(&self) -> u64 {
            let l = |i: usize| self.limbs.get(i).copied().unwrap_or(0) as u64;
            l(0) | (l(1) << 32)
        }

        pub fn mul_small(&mut self, m: u32) {
            let mut carry = 0u64;
            for l in &mut self.limbs {
                let v = *l as u64 * m as u64 + carry;
                *l = v as u32;
                carry = v >> 32;
            }
            if carry != 0 {
                self.limbs.push(carry as u32);
            }
            self.trim();
        }

        pub fn add_small(&mut self, a: u32) {
            let mut carry = a as u64;
            for l in &mut self.limbs {
                if carry == 0 {
                    return;
                }
                let v = *l as u64 + carry;
                *l = v as u32;
                carry = v >> 32;
            }
            if carry != 0 {
                self.limbs.push(carry as u32);
            }
        }

        pub fn add(&mut self, o: &Big) {
            if self.limbs.len() < o.limbs.len() {
                self.limbs.resize(o.limbs.len(), 0);
            }
            let mut carry = 0u64;
            for (i, l) in self.limbs.iter_mut().enumerate() {
                let v = *l as u64 + o.limbs.get(i).copied().unwrap_or(0) as u64 + carry;
                *l = v as u32;
                carry = v >> 32;
            }
            if carry != 0 {
                self.limbs.push(carry as u32);
            }
        }

        /// `self -= o`; requires `self >= o`.
        pub fn sub(&mut self, o: &Big) {
            debug_assert!(*self >= *o);
            let mut borrow = 0i64;
            for (i, l) in self.limbs.iter_mut().enumerate() {
                let mut v = *l as i64 - o.limbs.get(i).copied().unwrap_or(0) as i64 - borrow;
                borrow = 0;
                if v < 0 {
                    v += 1 << 32;
                    borrow = 1;
                }
                *l = v as u32;
            }
            self.trim();
        }

        pub fn shl(&mut self, bits: u32) {
            if self.is_zero() || bits == 0 {
                return;
            }
            let (limbs, rem) = ((bits / 32) as usize, bits % 32);
            if rem != 0 {
                let mut carry = 0u32;
                for l in &mut self.limbs {
                    let v = (*l << rem) | carry;
                    carry = *l >> (32 - rem);
                    *l = v;
                }
                if carry != 0 {
                    self.limbs.push(carry);
                }
            }
            self.limbs.splice(0..0, vec![0u32; limbs]);
        }

        pub fn shr(&mut self, bits: u32) {
            let (limbs, rem) = ((bits / 32) as usize, bits % 32);
            if limbs >= self.limbs.len() {
                self.limbs.clear();
                return;
            }
            self.limbs.drain(0..limbs);
            if rem != 0 {
                let n = self.limbs.len();
                for i in 0..n {
                    let hi = if i + 1 < n {
                        self.limbs[i + 1] << (32 - rem)
                    } else {
                        0
                    };
                    self.limbs[i] = (self.limbs[i] >> rem) | hi;
                }
            }
            self.trim();
        }

        /// Keeps only the low `bits` bits.
        pub fn truncate_bits(&mut self, bits: u32) {
            let (limbs, rem) = ((bits / 32) as usize, bits % 32);
            if limbs < self.limbs.len() {
                self.limbs.truncate(limbs + 1);
                if let Some(top) = self.limbs.last_mut() {
                    *top &= if rem == 0 { 0 } else { (1u32 << rem) - 1 };
                }
            }
            self.trim();
        }

        /// Quotient and whether the remainder is nonzero. Bitwise long
        /// division: one step per quotient bit, so callers keep the
        /// quotient short.
        pub fn div_rem(&self, d: &Big) -> (Big, bool) {
            debug_assert!(!d.is_zero());
            let (n, m) = (self.bit_len(), d.bit_len());
            if n < m {
                return (Big { limbs: Vec::new() }, !self.is_zero());
            }
            let mut q = Big {
                limbs: vec![0; (n - m) as usize / 32 + 1],
            };
            // Start with the top m bits, then bring down one bit per step.
            let mut r = self.clone();
            r.shr(n - m);
            for i in (0..=(n - m)).rev() {
                if i < n - m {
                    r.shl(1);
                    if self.bit(i) {
                        if r.is_zero() {
                            r.limbs.push(1);
                        } else {
                            r.limbs[0] |= 1;
                        }
                    }
                }
                if r >= *d {
                    r.sub(d);
                    q.limbs[(i / 32) as usize] |= 1 << (i % 32);
                }
            }
            q.trim();
            (q, !r.is_zero())
        }

        /// `self *= 10^n`.
        pub fn mul_pow10(&mut self, mut n: u32) {
            while n > 0 {
                let step = n.min(9);
                self.mul_small(10u32.pow(step));
                n -= step;
            }
        }

        pub fn to_decimal(&self) -> String {
            if self.is_zero() {
                return "0".to_string();
            }
            let mut chunks = Vec::new();
            let mut n = self.clone();
            while !n.is_zero() {
                let mut rem = 0u64;
                for l in n.limbs.iter_mut().rev() {
                    let v = (rem << 32) | *l as u64;
                    *l = (v / 1_000_000_000) as u32;
                    rem = v % 1_000_000_000;
                }
                n.trim();
                chunks.push(rem as u32);
            }
            let mut s = String::new();
            for (i, c) in chunks.iter().rev().enumerate() {
                if i == 0 {
                    s.push_str(&c.to_string());
                } else {
                    s.push_str(&format!("{c:09}"));
                }
            }
            s
        }
    }

    impl PartialOrd for Big {
        fn partial_cmp(&self, o: &Big) -> Option<std::cmp::Ordering> {
            Some(self.cmp(o))
        }
    }

    impl Ord for Big {
        fn cmp(&self, o: &Big) -> std::cmp::Ordering {
            self.limbs
                .len()
                .cmp(&o.limbs.len())
                .then_with(|| self.limbs.iter().rev().cmp(o.limbs.iter().rev()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_double_rejects_leading_whitespace_like_string2ld() {
        // Found by server/tests/differential.rs: SET k " 1"; INCRBYFLOAT k 3.
        assert_eq!(
            incr_by_float(Some(b" 1"), b"3"),
            Err(IncrFloatError::NotAFloat)
        );
        assert_eq!(
            incr_by_float(Some(b"1"), b"\t3"),
            Err(IncrFloatError::NotAFloat)
        );
        assert_eq!(incr_by_float(Some(b"+1"), b"3").as_deref(), Ok("4"));
        assert_eq!(
            incr_by_float(Some(b"1 "), b"3"),
            Err(IncrFloatError::NotAFloat)
        );
    }

    #[test]
    fn canonical_integers() {
        assert_eq!(parse_canonical_i64(b"0"), Some(0));
        assert_eq!(parse_canonical_i64(b"-12"), Some(-12));
        assert_eq!(parse_canonical_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_canonical_i64(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_canonical_i64(b"9223372036854775808"), None);
        assert_eq!(parse_canonical_i64(b"012"), None);
        assert_eq!(parse_canonical_i64(b"+1"), None);
        assert_eq!(parse_canonical_i64(b"-0"), None);
        assert_eq!(parse_canonical_i64(b" 1"), None);
        assert_eq!(parse_canonical_i64(b""), None);
    }

    #[test]
    fn g17_matches_printf() {
        assert_eq!(format_double_g17(1.1), "1.1000000000000001");
        assert_eq!(format_double_g17(1.5), "1.5");
        assert_eq!(format_double_g17(3.0), "3");
        assert_eq!(format_double_g17(-2.25), "-2.25");
        assert_eq!(format_double_g17(1e17), "1e+17");
        assert_eq!(format_double_g17(1.0e-5), "1.0000000000000001e-05");
        assert_eq!(format_double_g17(0.0001), "0.0001");
        assert_eq!(format_double_g17(123456789.0), "123456789");
        assert_eq!(format_double_g17(f64::INFINITY), "inf");
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod long_double_tests {
    use super::*;

    fn incr(cur: &str, by: &str) -> String {
        incr_by_float(Some(cur.as_bytes()), by.as_bytes()).unwrap_or_else(|e| e.to_string())
    }

    #[test]
    fn matches_redis_incrbyfloat() {
        // Expected values captured from redis-server 7.0.15 (x86-64).
        assert_eq!(incr("0.1", "0.2"), "0.3");
        assert_eq!(incr("10.5", "0.1"), "10.6");
        assert_eq!(incr("1000", "0.1"), "1000.09999999999999998");
        assert_eq!(incr("10000000000", "0.1"), "10000000000.09999999962747097");
        assert_eq!(incr("1e5", "0"), "100000");
        assert_eq!(incr("0", "1.0e-20"), "0");
        assert_eq!(incr("0", "0x1.8p1"), "3");
        assert_eq!(incr("5", "0x10"), "21");
        assert_eq!(incr("21", ".5"), "21.5");
        assert_eq!(incr("21.5", "5."), "26.5");
        assert_eq!(incr("0", "-0.0"), "0");
        assert_eq!(incr("0", "0.000003814697265625"), "0.00000381469726562");
        assert_eq!(incr("3", "1e-20"), "3");
        assert!(incr("0", "1e300").starts_with(
            "1000000000000000000008997324079559193870523944273290747938260082321265646596180935755849152083750497"
        ));
        assert_eq!(incr("0", "-1e4000").len(), 4001);
        assert!(
            incr("0", "-1e4000").starts_with("-99999999999999999999654638730996237849324925835")
        );
    }

    #[test]
    fn rejects_what_redis_rejects() {
        let bad = IncrFloatError::NotAFloat.to_string();
        for s in [
            "", " 1", "1 ", "1.5e", "abc", "0x", ".", "nan", "1e5000", "1e-5000", "--1",
        ] {
            assert_eq!(incr("0", s), bad, "{s:?}");
        }
        assert_eq!(
            incr("0", "inf"),
            "ERR increment would produce NaN or Infinity"
        );
        assert_eq!(
            incr("0", "-Infinity"),
            "ERR increment would produce NaN or Infinity"
        );
        assert_eq!(
            incr("1e4932", "1e4932"),
            "ERR increment would produce NaN or Infinity"
        );
        assert_eq!(incr_by_float(None, b"2.5"), Ok("2.5".to_string()));
        // Long inputs near the limits stay exact (and cheap); values from
        // redis-server 7.0.15.
        let tiny = format!("0.{}1e4900", "0".repeat(4000));
        assert!(incr("0", &tiny)
            .starts_with("999999999999999999995587266448423555143132674699258227588256"));
        let long_fraction = format!("1.{}", "3".repeat(5200));
        assert_eq!(incr("0", &long_fraction), bad, "longer than Redis accepts");
        let long_fraction = format!("1.{}", "3".repeat(4000));
        assert_eq!(incr("0", &long_fraction), "1.33333333333333333");
        let leading = format!("{}1e4932", "0".repeat(20));
        assert!(incr("0", &leading).starts_with("1000000000000000000006018949387963891323"));
        assert_eq!(incr("0", &format!("1e-{}", 4940)), "0");
    }

    #[test]
    fn addition_rounds_to_64_bit_mantissa() {
        let one = LongDouble::from_i64(1);
        let tiny = LongDouble::parse(b"0x1p-64").unwrap();
        // 1 + 2^-64 is a tie between 1 and 1 + 2^-63: ties go to even (1).
        assert_eq!(one.plus(tiny), one);
        let above = LongDouble::parse(b"0x1.8p-64").unwrap();
        assert_ne!(one.plus(above), one);
        assert_eq!(
            LongDouble::from_i64(-5).plus(LongDouble::from_i64(5)),
            LongDouble::ZERO
        );
        assert_eq!(
            LongDouble::from_i64(i64::MIN).format_human().unwrap(),
            "-9223372036854775808"
        );
    }
}
