//! Boost.Python releases known not to work with a Python, refused before anything is
//! downloaded: one table, each entry with its reason.

use super::catalog::{BoostCatalog, BoostVersion};

/// One known-broken combination.
struct Broken {
    /// Does it apply to this Boost release and Python `(major, minor)`?
    applies: fn(BoostVersion, (u32, u32)) -> bool,
    reason: &'static str,
}

/// Every known-broken combination of Boost.Python and Python.
const BROKEN: &[Broken] = &[
    Broken {
        applies: |boost, python| boost < BoostVersion(1, 81, 0) && python >= (3, 11),
        reason: "Boost.Python before 1.81 does not work with Python 3.11 and later \
                 (its enum support breaks on 3.11's changed type internals; fixed in 1.81.0)",
    },
    Broken {
        applies: |boost, python| boost < BoostVersion(1, 76, 0) && python >= (3, 10),
        reason: "Boost.Python before 1.76 does not build with Python 3.10 and later \
                 (it calls _Py_fopen, which 3.10 removed; fixed in 1.76.0)",
    },
    Broken {
        applies: |boost, _| boost == BoostVersion(1, 64, 0),
        reason: "Boost.Python 1.64.0 is broken with every Python (a defect of that release, \
                 fixed in 1.65.0)",
    },
];

/// Why Boost.Python `boost` cannot be built against Python `python`, and the nearest release
/// that can (the oldest newer one in `catalog`, else the newest older one).
pub fn refusal(
    catalog: &BoostCatalog,
    boost: BoostVersion,
    python: (u32, u32),
) -> Option<(&'static str, Option<BoostVersion>)> {
    let reason = BROKEN.iter().find(|b| (b.applies)(boost, python))?.reason;
    let works = |v: &BoostVersion| !BROKEN.iter().any(|b| (b.applies)(*v, python));
    let versions = catalog.releases().iter().map(|r| r.version);
    let nearest = versions
        .clone()
        .filter(|v| *v > boost)
        .find(works)
        .or_else(|| versions.filter(|v| *v < boost).rfind(works));
    Some((reason, nearest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_known_broken_pair_is_refused_with_the_nearest_working_release() {
        let catalog = BoostCatalog::embedded();
        let check = |boost: (u32, u32, u32), python| {
            refusal(catalog, BoostVersion(boost.0, boost.1, boost.2), python)
                .map(|(reason, nearest)| (reason, nearest.map(|v| v.to_string())))
        };
        let (reason, nearest) = check((1, 80, 0), (3, 11)).unwrap();
        assert!(reason.contains("3.11"), "{reason}");
        assert_eq!(nearest.as_deref(), Some("1.81.0"));
        assert_eq!(
            check((1, 70, 0), (3, 12)).unwrap().1.as_deref(),
            Some("1.81.0"),
            "both rules apply: the nearest passes both"
        );
        assert_eq!(
            check((1, 75, 0), (3, 10)).unwrap().1.as_deref(),
            Some("1.76.0")
        );
        assert_eq!(
            check((1, 64, 0), (3, 6)).unwrap().1.as_deref(),
            Some("1.65.0")
        );
        assert!(check((1, 81, 0), (3, 11)).is_none());
        assert!(check((1, 80, 0), (3, 10)).is_none());
        assert!(check((1, 75, 0), (3, 9)).is_none());
        assert!(check((1, 65, 0), (2, 7)).is_none());
    }
}
