//! Shannon entropy in bits per byte. Used as a floor per rule: random tokens sit near
//! log2(alphabet size), words and placeholders far below. Counts live on the stack.

pub fn shannon_entropy(bytes: &[u8]) -> f64 {
    if bytes.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &byte in bytes {
        counts[byte as usize] += 1;
    }
    let total = bytes.len() as f64;
    counts
        .iter()
        .filter(|&&count| count > 0)
        .map(|&count| {
            let p = f64::from(count) / total;
            -p * p.log2()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::shannon_entropy;

    #[test]
    fn uniform_alphabet_has_log2_entropy() {
        assert!((shannon_entropy(b"abcd") - 2.0).abs() < 1e-9);
        assert!((shannon_entropy(b"aaaa") - 0.0).abs() < 1e-9);
        assert_eq!(shannon_entropy(b""), 0.0);
    }
}
