//! Publications (bài báo khoa học), authored by experts and often tied to a project.

use lienthong_proto::v1::{Classification, Publication, PublicationAuthor, Visibility};

use crate::dates::days_from_civil;
use crate::experts::{self, keywords};
use crate::fields;
use crate::names::{self, fold};
use crate::projects::{self, LAST_YEAR, Phrases, district};
use crate::{Kind, SampleGenerator};

const VI_TITLES: &[&str] = &[
    "Nghiên cứu {t} tại tỉnh {P}",
    "Ứng dụng {m} trong {t}",
    "Đánh giá hiệu quả của {m} trong {t} ở {D}, tỉnh {P}",
    "Kết quả bước đầu ứng dụng {m} trong {t}",
    "Thực trạng và giải pháp {t} tại tỉnh {P}",
    "Một số kết quả nghiên cứu về {t} trên địa bàn tỉnh {P}",
];

const EN_TITLES: &[&str] = &[
    "Application of {m} to {t} in {P} province, Vietnam",
    "Assessment of {t} in {P} province: a case study",
    "Effects of {m} on {t} in northern Vietnam",
    "{m} for {t}: evidence from {P}, Vietnam",
    "Towards sustainable {t}: lessons from {P} province",
];

const VI_ABSTRACTS: &[&str] = &[
    "Nghiên cứu nhằm đánh giá {t} tại {D}, tỉnh {P}.",
    "Bài báo trình bày kết quả ứng dụng {m} trong {t} tại tỉnh {P}.",
    "Nghiên cứu được thực hiện nhằm xác định giải pháp phù hợp cho {t} ở {D}.",
];

const EN_ABSTRACTS: &[&str] = &[
    "This study evaluates {t} in {P} province, Vietnam.",
    "This paper reports on the use of {m} for {t} in {P} province.",
    "We investigated {m} as a means of improving {t} in northern Vietnam.",
];

const DOI_PREFIXES: &[&str] = &[
    "15625", "31817", "51298", "47866", "31276", "52714", "54163",
];

/// Upper-cases the first letter.
fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

pub(crate) fn publication(g: &SampleGenerator, i: u64) -> Publication {
    let mut dice = g.dice(Kind::Publication, i);
    let experts_n = g.spec.experts;
    let projects_n = g.spec.projects;
    let project = (projects_n > 0 && dice.chance(5000)).then(|| dice.below(projects_n));
    let project_core = project.map(|j| projects::core(g, j).0);
    let year = match &project_core {
        Some(p) => (p.year + dice.range_i64(1, 3)).min(LAST_YEAR),
        None => {
            // More papers in recent years.
            let a = dice.range_i64(projects::FIRST_YEAR, LAST_YEAR);
            let b = dice.range_i64(projects::FIRST_YEAR, LAST_YEAR);
            a.max(b)
        }
    };

    let author_count = *dice.weighted(&[(1u64, 15), (2, 25), (3, 28), (4, 20), (5, 12)]);
    let mut author_ids: Vec<u64> = Vec::with_capacity(author_count as usize);
    if experts_n > 0 {
        if let Some(lead) = project_core.as_ref().and_then(|p| p.lead) {
            author_ids.push(lead);
        }
        let wanted = author_count.min(experts_n) as usize;
        let mut attempts = 0;
        while author_ids.len() < wanted && attempts < 20 {
            attempts += 1;
            let j = dice.below(experts_n);
            if !author_ids.contains(&j) {
                author_ids.push(j);
            }
        }
    }
    let mut first_core = None;
    let mut authors: Vec<PublicationAuthor> = Vec::with_capacity(author_count as usize);
    for j in &author_ids {
        let core = experts::core(g, *j).0;
        authors.push(PublicationAuthor {
            name: core.name.clone(),
            expert_id: g.id(Kind::Expert, *j),
        });
        if first_core.is_none() {
            first_core = Some(core);
        }
    }
    if authors.is_empty() {
        for _ in 0..author_count {
            let female = dice.chance(4000);
            authors.push(PublicationAuthor {
                name: names::full_name(&mut dice, female),
                expert_id: String::new(),
            });
        }
    }
    let (field, sub_index) = match &first_core {
        Some(core) => (core.field, core.sub),
        None => {
            let field = dice.range(1, 6) as u8;
            (field, dice.index(fields::field(field).subfields.len()))
        }
    };
    let field_data = fields::field(field);
    let sub = &field_data.subfields[sub_index];

    let english = dice.chance(2500);
    let district = district(g, &mut dice, year);
    let ascii_province = g.province.ascii.as_str();
    let ascii_district;
    let phrases = if english {
        ascii_district = fold(district);
        Phrases {
            method: dice.pick_str(sub.en_methods),
            target: dice.pick_str(sub.en_targets),
            province: ascii_province,
            district: &ascii_district,
            year,
        }
    } else {
        Phrases {
            method: dice.pick_str(sub.methods),
            target: dice.pick_str(sub.targets),
            province: &g.province.name,
            district,
            year,
        }
    };
    let title =
        capitalize(&phrases.fill(dice.pick_str(if english { EN_TITLES } else { VI_TITLES })));
    let percent = dice.range(8, 40);
    let mut abstract_text =
        phrases.fill(dice.pick_str(if english { EN_ABSTRACTS } else { VI_ABSTRACTS }));
    if dice.chance(7000) {
        abstract_text.push(' ');
        if english {
            abstract_text.push_str(&format!(
                "The results show an improvement of {percent}% compared with the control."
            ));
        } else {
            abstract_text.push_str(&format!(
                "Kết quả cho thấy hiệu quả tăng {percent}% so với đối chứng."
            ));
        }
    }
    let venue = dice.pick_str(if english {
        field_data.venues_en
    } else {
        field_data.venues_vi
    });
    let volume = (year - 1990).max(1);
    let issue = dice.range(1, 12);
    let first_page = dice.range(1, 150);
    let pages = format!("{first_page}-{}", first_page + dice.range(4, 12));
    let doi = if dice.chance(if english { 7000 } else { 3000 }) {
        let journal: String = venue
            .split(' ')
            .filter_map(|w| w.chars().next())
            .map(names::fold_char)
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase())
            .collect();
        format!(
            "10.{}/{journal}.{year}.{volume}.{issue}.{:02}",
            dice.pick_str(DOI_PREFIXES),
            dice.range(1, 30)
        )
    } else {
        String::new()
    };
    let keywords = keywords(
        &mut dice,
        if english {
            sub.en_keywords
        } else {
            sub.keywords
        },
        3,
        5,
    );
    let legacy = if year < 2010 { 5000 } else { 800 };
    let field_codes = experts::field_codes(&mut dice, field, sub_index, legacy);
    let visibility = match dice.below(100) {
        0..=64 => Visibility::Public,
        65..=97 => Visibility::Federation,
        _ => Visibility::Internal,
    };
    let earliest = days_from_civil(year, 1, 1);
    let meta = g.meta(
        Kind::Publication,
        i,
        &mut dice,
        earliest,
        visibility,
        Classification::Normal,
    );
    Publication {
        meta: Some(meta),
        title,
        authors,
        venue: venue.to_owned(),
        year: year as u32,
        volume: volume.to_string(),
        issue: issue.to_string(),
        pages,
        doi,
        language: if english { "en" } else { "vi" }.to_owned(),
        r#abstract: abstract_text,
        keywords,
        field_codes,
        project_id: project.map_or_else(String::new, |j| g.id(Kind::Project, j)),
    }
}
