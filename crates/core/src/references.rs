//! The works DiceLens builds on, as data: one table from which the app's References section,
//! its Cite button and `docs/CITATION.bib` are all rendered (a test checks that the file equals
//! [`citation_bib`], so the two cannot drift).
//!
//! Only bibliographic facts that were checked are given; a field that was not (e.g. the page
//! numbers of the BrainLes chapter) is left out rather than guessed.

/// One work: a BibTeX entry plus what DiceLens uses it for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reference {
    /// The BibTeX key (also the `data-testid="bibtex-<key>"` suffix in the app).
    pub key: &'static str,
    /// The BibTeX entry type, without `@`: `article`, `inproceedings`, `misc`.
    pub kind: &'static str,
    /// The BibTeX fields in order, `(name, value)`; values are written between braces as given.
    pub fields: &'static [(&'static str, &'static str)],
    /// One line: what DiceLens uses this work for.
    pub used_for: &'static str,
    /// A link to the work (DOI, arXiv or repository).
    pub url: &'static str,
}

/// The key of the paper DiceLens is a companion to (what the Cite button copies).
pub const PAPER_KEY: &str = "liu2024dice";

/// Every reference, the paper first.
pub const REFERENCES: [Reference; 7] = [
    Reference {
        key: PAPER_KEY,
        kind: "article",
        fields: &[
            ("author", "Liu, Bingyuan and Dolz, Jose and Galdran, Adrian and Kobbi, Riadh and Ben Ayed, Ismail"),
            ("title", "Do we really need {D}ice? {T}he hidden region-size biases of segmentation losses"),
            ("journal", "Medical Image Analysis"),
            ("volume", "91"),
            ("pages", "103015"),
            ("year", "2024"),
            ("doi", "10.1016/j.media.2023.103015"),
            ("eprint", "2104.08717"),
            ("archiveprefix", "arXiv"),
            ("note", "Earlier title: The hidden label-marginal biases of segmentation losses"),
        ],
        used_for: "The paper DiceLens illustrates: the CE and Dice decompositions into a matching \
                   term and a region-size term, the region terms' minimizers, and the CE+L1 / \
                   CE+KL fix.",
        url: "https://arxiv.org/abs/2104.08717",
    },
    Reference {
        key: "bertels2019softdice",
        kind: "inproceedings",
        fields: &[
            ("author", "Bertels, Jeroen and Robben, David and Vandermeulen, Dirk and Suetens, Paul"),
            ("title", "Optimization with soft {D}ice can lead to a volumetric bias"),
            ("booktitle", "Brainlesion: Glioma, Multiple Sclerosis, Stroke and Traumatic Brain Injuries (BrainLes 2019)"),
            ("series", "Lecture Notes in Computer Science"),
            ("volume", "11992"),
            ("publisher", "Springer"),
            ("year", "2020"),
            ("eprint", "1911.02278"),
            ("archiveprefix", "arXiv"),
        ],
        used_for: "The ambiguous-pixel analysis (hard decisions and the volume bias of soft Dice) \
                   that DiceLens's ambiguous-pixels view follows.",
        url: "https://arxiv.org/abs/1911.02278",
    },
    Reference {
        key: "milletari2016vnet",
        kind: "inproceedings",
        fields: &[
            ("author", "Milletari, Fausto and Navab, Nassir and Ahmadi, Seyed-Ahmad"),
            ("title", "{V-Net}: Fully convolutional neural networks for volumetric medical image segmentation"),
            ("booktitle", "Fourth International Conference on 3D Vision (3DV)"),
            ("pages", "565--571"),
            ("year", "2016"),
            ("doi", "10.1109/3DV.2016.79"),
            ("eprint", "1606.04797"),
            ("archiveprefix", "arXiv"),
        ],
        used_for: "The soft Dice loss as a training objective, the loss whose region-size bias \
                   DiceLens shows.",
        url: "https://arxiv.org/abs/1606.04797",
    },
    Reference {
        key: "sudre2017generalised",
        kind: "inproceedings",
        fields: &[
            ("author", "Sudre, Carole H. and Li, Wenqi and Vercauteren, Tom and Ourselin, Sebastien and Cardoso, M. Jorge"),
            ("title", "Generalised {D}ice overlap as a deep learning loss function for highly unbalanced segmentations"),
            ("booktitle", "Deep Learning in Medical Image Analysis and Multimodal Learning for Clinical Decision Support (DLMIA 2017)"),
            ("series", "Lecture Notes in Computer Science"),
            ("volume", "10553"),
            ("pages", "240--248"),
            ("publisher", "Springer"),
            ("year", "2017"),
            ("doi", "10.1007/978-3-319-67558-9_28"),
            ("eprint", "1707.03237"),
            ("archiveprefix", "arXiv"),
        ],
        used_for: "Dice losses for highly unbalanced segmentation, the setting in which the \
                   paper's region-size analysis matters.",
        url: "https://arxiv.org/abs/1707.03237",
    },
    Reference {
        key: "isensee2021nnunet",
        kind: "article",
        fields: &[
            ("author", "Isensee, Fabian and Jaeger, Paul F. and Kohl, Simon A. A. and Petersen, Jens and Maier-Hein, Klaus H."),
            ("title", "{nnU-Net}: a self-configuring method for deep learning-based biomedical image segmentation"),
            ("journal", "Nature Methods"),
            ("volume", "18"),
            ("pages", "203--211"),
            ("year", "2021"),
            ("doi", "10.1038/s41592-020-01008-z"),
        ],
        used_for: "The nnU-Net loss preset (batch Dice without background, plus CE) in the family \
                   view and the Copy-as-PyTorch snippet.",
        url: "https://doi.org/10.1038/s41592-020-01008-z",
    },
    Reference {
        key: "monai2022",
        kind: "misc",
        fields: &[
            ("author", "{MONAI Consortium}"),
            ("title", "{MONAI}: An open-source framework for deep learning in healthcare"),
            ("year", "2022"),
            ("eprint", "2211.02701"),
            ("archiveprefix", "arXiv"),
        ],
        used_for: "The reference conventions for MONAI Dice and Dice+CE (DiceLoss and DiceCELoss \
                   with softmax=True, to_onehot_y=True): golden values and the MONAI preset.",
        url: "https://arxiv.org/abs/2211.02701",
    },
    Reference {
        key: "seglossbias",
        kind: "misc",
        fields: &[
            ("title", "{SegLossBias}: code of ``{T}he hidden label-marginal biases of segmentation losses''"),
            ("howpublished", "\\url{https://github.com/by-liu/SegLossBias}"),
            ("note", "GitHub repository"),
        ],
        used_for: "The authors' code: the L1 and KL region terms (CrossEntropyWithL1, \
                   CrossEntropyWithKL), their proportion epsilon and temperature, which the core \
                   and the PyTorch snippet follow.",
        url: "https://github.com/by-liu/SegLossBias",
    },
];

impl Reference {
    /// The value of a BibTeX field, if the entry has it.
    pub fn field(&self, name: &str) -> Option<&'static str> {
        self.fields
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| *v)
    }

    /// The BibTeX entry, fields aligned, ending in a newline.
    pub fn bibtex(&self) -> String {
        let width = self.fields.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
        let mut out = format!("@{}{{{},\n", self.kind, self.key);
        for (name, value) in self.fields {
            out.push_str(&format!("  {name:<width$} = {{{value}}},\n"));
        }
        out.push_str("}\n");
        out
    }

    /// A plain-text citation: authors, title, venue and year (braces and TeX quotes removed).
    pub fn citation(&self) -> String {
        let authors = self
            .field("author")
            .map(|a| {
                a.split(" and ")
                    .map(|name| match name.split_once(", ") {
                        Some((last, first)) => format!("{first} {last}"),
                        None => name.to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .map(|a| format!("{a}. "))
            .unwrap_or_default();
        let title = self.field("title").unwrap_or("");
        let venue = match (self.field("journal"), self.field("booktitle")) {
            (Some(j), _) => {
                let vol = self
                    .field("volume")
                    .map(|v| format!(" {v}"))
                    .unwrap_or_default();
                let pages = self
                    .field("pages")
                    .map(|p| format!(", {p}"))
                    .unwrap_or_default();
                format!("{j}{vol}{pages}")
            }
            (None, Some(b)) => b.to_string(),
            (None, None) => match self.field("eprint") {
                Some(e) => format!("arXiv {e}"),
                None => "GitHub repository".to_string(),
            },
        };
        let year = self
            .field("year")
            .map(|y| format!(", {y}"))
            .unwrap_or_default();
        plain(&format!("{authors}{title}. {venue}{year}."))
    }
}

/// TeX markup out of a string: braces, `--` and quote ligatures.
fn plain(s: &str) -> String {
    s.replace(['{', '}'], "")
        .replace("--", "–")
        .replace("``", "“")
        .replace("''", "”")
}

/// The reference with `key`.
pub fn reference(key: &str) -> Option<&'static Reference> {
    REFERENCES.iter().find(|r| r.key == key)
}

/// The paper's BibTeX entry (what the app's Cite button copies).
pub fn paper_bibtex() -> String {
    REFERENCES[0].bibtex()
}

/// The whole of `docs/CITATION.bib`: a header comment and every entry, the paper first.
pub fn citation_bib() -> String {
    let mut out = String::from(
        "% DiceLens: the works it builds on. Generated from crates/core/src/references.rs;\n\
         % do not edit by hand (regenerate with\n\
         % DICELENS_BLESS=1 cargo test -p dicelens-core --test references).\n",
    );
    for r in &REFERENCES {
        out.push('\n');
        out.push_str(&r.bibtex());
    }
    out
}
