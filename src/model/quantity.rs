//! Sizes as Kubernetes and CNPG read them: Kubernetes resource quantities (`512Mi`, `1G`,
//! `1.5e3`), and PostgreSQL sizes as CNPG's webhook parses them (`parsePostgresQuantityValue`,
//! internal/webhook/v1/cluster_webhook.go). Values are in base units (bytes, or cores for CPU) as `f64`: every unit
//! is a power of 2 or 10, so comparisons of written sizes are exact.

/// A Kubernetes resource quantity (`k8s.io/apimachinery` `ParseQuantity`): an optional sign, a
/// decimal number, then a binary suffix (`Ki`…`Ei`), a decimal suffix (`n u m k M G T P E`), or
/// an exponent (`e3`, `E-2`).
pub fn k8s_quantity(s: &str) -> Option<f64> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    let number_end = s
        .char_indices()
        .find(|(i, c)| !(c.is_ascii_digit() || *c == '.' || (*i == 0 && (*c == '+' || *c == '-'))))
        .map_or(s.len(), |(i, _)| i);
    let (number, suffix) = s.split_at(number_end);
    let digits = number.trim_start_matches(['+', '-']);
    if digits.is_empty() || digits == "." || digits.matches('.').count() > 1 {
        return None;
    }
    let value: f64 = number.parse().ok()?;
    let factor = match suffix {
        "" => 1.0,
        "Ki" => 1024f64,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        "n" => 1e-9,
        "u" => 1e-6,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        exp if exp.starts_with(['e', 'E']) => {
            let e: i32 = exp.get(1..)?.parse().ok()?;
            10f64.powi(e)
        }
        _ => return None,
    };
    Some(value * factor)
}

/// A PostgreSQL size the way CNPG's webhook reads it: a bare integer is megabytes; otherwise the
/// text must end in an uppercase `B` (`8kB`, `128MB`, `1GB`, `1024B`), and the units are powers
/// of 1024. `None` where the webhook would reject the value.
pub fn pg_size(s: &str) -> Option<f64> {
    let with_unit = if is_go_atoi(s) {
        format!("{s}MB")
    } else {
        s.to_string()
    };
    let body = with_unit.strip_suffix('B')?.replace(' ', "");
    let quantity = if is_go_atoi(&body) {
        body
    } else {
        format!("{body}i").replace("ki", "Ki")
    };
    // `MB` with no digits parses as zero upstream; treat it as unreadable instead.
    if !quantity.starts_with(|c: char| c.is_ascii_digit() || matches!(c, '.' | '+' | '-')) {
        return None;
    }
    k8s_quantity(&quantity)
}

/// Go's `strconv.Atoi`: an optional sign and decimal digits that fit in an int64.
fn is_go_atoi(s: &str) -> bool {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) && s.parse::<i64>().is_ok()
}

/// A size for messages: the largest binary unit that divides it, else bytes.
pub fn show_bytes(bytes: f64) -> String {
    for (unit, f) in [("TiB", 4), ("GiB", 3), ("MiB", 2), ("KiB", 1)] {
        let d = 1024f64.powi(f);
        if bytes >= d && (bytes / d).fract() == 0.0 {
            return format!("{}{unit}", bytes / d);
        }
    }
    for (unit, f) in [("GiB", 3), ("MiB", 2)] {
        let d = 1024f64.powi(f);
        if bytes >= d {
            return format!("{:.1}{unit}", bytes / d);
        }
    }
    format!("{bytes}B")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubernetes_quantities() {
        assert_eq!(k8s_quantity("1Gi"), Some(1073741824.0));
        assert_eq!(k8s_quantity("1G"), Some(1e9));
        assert_eq!(k8s_quantity("500m"), Some(0.5));
        assert_eq!(k8s_quantity("1.5Ki"), Some(1536.0));
        assert_eq!(k8s_quantity("2e3"), Some(2000.0));
        assert_eq!(k8s_quantity("2"), Some(2.0));
        assert_eq!(k8s_quantity("1GB"), None);
        assert_eq!(k8s_quantity("Gi"), None);
        assert_eq!(k8s_quantity(""), None);
    }

    #[test]
    fn postgres_sizes_as_cnpg_reads_them() {
        let mi = 1024f64 * 1024.0;
        assert_eq!(pg_size("128"), Some(128.0 * mi));
        assert_eq!(pg_size("128MB"), Some(128.0 * mi));
        assert_eq!(pg_size("128 MB"), Some(128.0 * mi));
        assert_eq!(pg_size("8kB"), Some(8192.0));
        assert_eq!(pg_size("8KB"), Some(8192.0));
        assert_eq!(pg_size("1GB"), Some(1024.0 * mi));
        assert_eq!(pg_size("1024B"), Some(1024.0));
        assert_eq!(pg_size("1.5GB"), Some(1536.0 * mi));
        for bad in ["8kb", "128mB", "512M", "1Gi", "128MiB", "B", "MB", "128 "] {
            assert_eq!(pg_size(bad), None, "{bad}");
        }
    }
}
