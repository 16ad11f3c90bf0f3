//! Experts (nhà khoa học / chuyên gia).

use lienthong_proto::v1::{
    AcademicTitle, Classification, ContactDetails, Degree, Expert, ExpertIdentifiers, Gender,
    Visibility,
};

use crate::dice::Dice;
use crate::fields::{self, Subfield};
use crate::organizations::{Brief, Profile};
use crate::{Kind, SampleGenerator, names};

/// The part of an expert that other records need: drawn first from the expert's
/// stream, so it can be regenerated cheaply.
pub(crate) struct ExpertCore {
    pub(crate) name: String,
    pub(crate) female: bool,
    /// Index of the expert's organization, when there are organizations.
    pub(crate) org: Option<u64>,
    /// Top-level field digit.
    pub(crate) field: u8,
    /// Index into that field's sub-fields.
    pub(crate) sub: usize,
}

impl ExpertCore {
    pub(crate) fn subfield(&self) -> &'static Subfield {
        &fields::field(self.field).subfields[self.sub]
    }
}

/// Field weights (fields 1–6) for a workplace profile.
fn profile_weights(profile: Profile) -> [u32; 6] {
    match profile {
        Profile::Agency => [12, 15, 10, 25, 28, 10],
        Profile::Academic => [20, 30, 5, 15, 20, 10],
        Profile::Medical => [3, 2, 95, 0, 0, 0],
        Profile::Institute => [20, 20, 10, 40, 5, 5],
        Profile::Center => [20, 30, 5, 40, 5, 0],
        Profile::Agri => [2, 5, 0, 93, 0, 0],
        Profile::Business => [5, 60, 5, 25, 5, 0],
        Profile::School => [25, 15, 5, 5, 30, 20],
        Profile::Culture => [0, 0, 0, 0, 30, 70],
    }
}

/// A top-level field for someone working at `brief` (any field when unknown).
pub(crate) fn draw_field(dice: &mut Dice, brief: Option<Brief>) -> u8 {
    let weights = match brief {
        Some(Brief {
            field: Some(hint), ..
        }) if dice.chance(8000) => return hint,
        Some(brief) => profile_weights(brief.profile),
        None => [18, 22, 15, 22, 15, 8],
    };
    dice.weighted_index(&weights) as u8 + 1
}

/// An organization index for an expert: 40% at the (larger) core bodies, the rest
/// spread over all organizations with a bias towards lower indices.
fn draw_org(dice: &mut Dice, n: u64, core: u64) -> u64 {
    let span = if dice.chance(4000) { n.min(core) } else { n };
    dice.below(span).min(dice.below(span))
}

/// Positions by workplace profile.
fn positions(profile: Profile) -> &'static [(&'static str, u32)] {
    match profile {
        Profile::Agency => &[
            ("Chuyên viên", 35),
            ("Chuyên viên chính", 25),
            ("Phó Trưởng phòng", 14),
            ("Trưởng phòng", 12),
            ("Thanh tra viên", 3),
            ("Phó Giám đốc", 8),
            ("Giám đốc", 3),
        ],
        Profile::Academic => &[
            ("Giảng viên", 45),
            ("Giảng viên chính", 22),
            ("Giảng viên cao cấp", 6),
            ("Trưởng bộ môn", 10),
            ("Phó Trưởng khoa", 6),
            ("Trưởng khoa", 5),
            ("Phó Hiệu trưởng", 2),
            ("Hiệu trưởng", 1),
        ],
        Profile::Medical => &[
            ("Bác sĩ điều trị", 30),
            ("Bác sĩ", 15),
            ("Dược sĩ", 10),
            ("Giảng viên", 6),
            ("Điều dưỡng trưởng", 6),
            ("Kỹ thuật viên xét nghiệm", 6),
            ("Phó Trưởng khoa", 10),
            ("Trưởng khoa", 10),
            ("Phó Giám đốc", 5),
            ("Giám đốc", 2),
        ],
        Profile::Institute => &[
            ("Nghiên cứu viên", 40),
            ("Nghiên cứu viên chính", 25),
            ("Nghiên cứu viên cao cấp", 6),
            ("Trưởng phòng", 14),
            ("Phó Viện trưởng", 5),
            ("Viện trưởng", 2),
        ],
        Profile::Center => &[
            ("Nghiên cứu viên", 25),
            ("Kỹ sư", 20),
            ("Chuyên viên", 20),
            ("Phó Trưởng phòng", 10),
            ("Trưởng phòng", 12),
            ("Phó Giám đốc", 8),
            ("Giám đốc", 3),
        ],
        Profile::Agri => &[
            ("Cán bộ kỹ thuật", 30),
            ("Kỹ sư nông nghiệp", 25),
            ("Cán bộ khuyến nông", 20),
            ("Trạm trưởng", 8),
            ("Phó Giám đốc", 8),
            ("Giám đốc", 4),
            ("Chủ nhiệm hợp tác xã", 5),
        ],
        Profile::Business => &[
            ("Kỹ sư", 35),
            ("Chuyên viên", 10),
            ("Trưởng phòng Kỹ thuật", 15),
            ("Trưởng phòng Nghiên cứu và Phát triển", 10),
            ("Giám đốc kỹ thuật", 10),
            ("Phó Giám đốc", 12),
            ("Giám đốc", 8),
        ],
        Profile::School => &[
            ("Giáo viên", 70),
            ("Tổ trưởng chuyên môn", 18),
            ("Phó Hiệu trưởng", 8),
            ("Hiệu trưởng", 4),
        ],
        Profile::Culture => &[
            ("Chuyên viên", 35),
            ("Nghiên cứu viên", 25),
            ("Phó Trưởng phòng", 12),
            ("Trưởng phòng", 12),
            ("Phó Giám đốc", 10),
            ("Giám đốc", 6),
        ],
    }
}

/// Draws the core of an expert from the start of its stream; returns the stream so
/// the caller can go on drawing the rest.
pub(crate) fn core(g: &SampleGenerator, i: u64) -> (ExpertCore, Dice) {
    let mut dice = g.dice(Kind::Expert, i);
    let female = dice.chance(4200);
    let name = names::full_name(&mut dice, female);
    let n = g.spec.organizations;
    let org = (n > 0).then(|| draw_org(&mut dice, n, g.catalog.core_len()));
    let field = draw_field(&mut dice, org.map(|j| g.catalog.brief(j)));
    let sub = dice.index(fields::field(field).subfields.len());
    (
        ExpertCore {
            name,
            female,
            org,
            field,
            sub,
        },
        dice,
    )
}

/// An ORCID iD, "0000-000X-XXXX-XXXX", with a valid ISO 7064 MOD 11-2 check digit.
fn orcid(dice: &mut Dice) -> String {
    let mut digits = [0u8; 15];
    digits[7] = dice.range(1, 3) as u8;
    for d in digits.iter_mut().skip(8) {
        *d = dice.below(10) as u8;
    }
    let mut total = 0u32;
    for d in digits {
        total = (total + u32::from(d)) * 2;
    }
    let check = (12 - total % 11) % 11;
    let mut text = String::with_capacity(19);
    for (index, d) in digits.iter().enumerate() {
        if index > 0 && index % 4 == 0 {
            text.push('-');
        }
        text.push(char::from(b'0' + d));
    }
    text.push(if check == 10 {
        'X'
    } else {
        char::from(b'0' + check as u8)
    });
    text
}

/// 1–2 field codes: the expert's sub-field and maybe a sibling; 20% in the legacy
/// 5-digit form.
pub(crate) fn field_codes(
    dice: &mut Dice,
    field: u8,
    sub: usize,
    legacy_per10k: u32,
) -> Vec<String> {
    let subs = fields::field(field).subfields;
    let legacy = dice.chance(legacy_per10k);
    let mut chosen = vec![sub];
    if dice.chance(4000) {
        let other = dice.index(subs.len());
        if other != sub {
            chosen.push(other);
        }
    }
    let mut codes: Vec<String> = Vec::with_capacity(chosen.len());
    for index in chosen {
        let sub = &subs[index];
        let code = if legacy { sub.legacy_code() } else { sub.code };
        if !codes.iter().any(|c| c == code) {
            codes.push(code.to_owned());
        }
    }
    codes
}

/// `min..=max` distinct keywords from a list.
pub(crate) fn keywords(dice: &mut Dice, list: &[&str], min: usize, max: usize) -> Vec<String> {
    let count = dice.range(min as u64, max as u64) as usize;
    dice.distinct(list.len(), count)
        .into_iter()
        .map(|index| list[index].to_owned())
        .collect()
}

pub(crate) fn expert(g: &SampleGenerator, i: u64) -> Expert {
    let (core, mut dice) = core(g, i);
    let sub = core.subfield();
    let title = match dice.below(1000) {
        0..=19 => AcademicTitle::Professor,
        20..=99 => AcademicTitle::AssociateProfessor,
        _ => AcademicTitle::Unspecified,
    };
    let birth_year = match title {
        AcademicTitle::Professor => dice.range_u32(1950, 1972),
        AcademicTitle::AssociateProfessor => dice.range_u32(1955, 1985),
        AcademicTitle::Unspecified => dice.range_u32(1950, 1998),
    };
    let degree = if title == AcademicTitle::Unspecified {
        let table: &[(Degree, u32)] = match core.field {
            3 => &[
                (Degree::DoctorOfScience, 1),
                (Degree::Doctor, 22),
                (Degree::Master, 25),
                (Degree::Bachelor, 12),
                (Degree::MedicalDoctor, 40),
            ],
            2 => &[
                (Degree::DoctorOfScience, 1),
                (Degree::Doctor, 29),
                (Degree::Master, 33),
                (Degree::Engineer, 30),
                (Degree::Bachelor, 7),
            ],
            _ => &[
                (Degree::DoctorOfScience, 1),
                (Degree::Doctor, 31),
                (Degree::Master, 36),
                (Degree::Engineer, 12),
                (Degree::Bachelor, 20),
            ],
        };
        *dice.weighted(table)
    } else {
        let tskh = if title == AcademicTitle::Professor {
            1500
        } else {
            500
        };
        if dice.chance(tskh) {
            Degree::DoctorOfScience
        } else {
            Degree::Doctor
        }
    };
    let brief = core.org.map(|j| g.catalog.brief(j));
    let profile = brief.map_or(Profile::Institute, |b| b.profile);
    let position =
        if title != AcademicTitle::Unspecified && profile == Profile::Academic && dice.chance(4000)
        {
            "Giảng viên cao cấp"
        } else {
            *dice.weighted(positions(profile))
        };
    let (organization_id, organization_name, domain) = match core.org {
        Some(j) => (
            g.id(Kind::Organization, j),
            g.catalog.name(j),
            g.catalog.domain(j),
        ),
        None => (String::new(), String::new(), "gmail.com".to_owned()),
    };
    let field_codes = field_codes(&mut dice, core.field, core.sub, 2000);
    let keywords = keywords(&mut dice, sub.keywords, 2, 4);
    let orcid = if dice.chance(3000) {
        orcid(&mut dice)
    } else {
        String::new()
    };
    let scopus = if dice.chance(1500) {
        format!("57{:09}", dice.below(1_000_000_000))
    } else {
        String::new()
    };
    let researcher_id = if dice.chance(600) {
        let letters: String = (0..3)
            .map(|_| char::from(b'A' + dice.below(26) as u8))
            .collect();
        format!(
            "{letters}-{:04}-{}",
            dice.below(10_000),
            dice.range(2008, 2024)
        )
    } else {
        String::new()
    };
    let mut email = names::email_local(&core.name);
    if dice.chance(3500) {
        email.push_str(&format!("{:02}", birth_year % 100));
    }
    email.push('@');
    email.push_str(&domain);
    let phone = format!("09{:08}", dice.below(100_000_000));
    let consent = dice.chance(6000);
    let visibility = match dice.below(100) {
        0..=84 => Visibility::Federation,
        85..=94 => Visibility::Public,
        _ => Visibility::Internal,
    };
    let meta = g.meta(
        Kind::Expert,
        i,
        &mut dice,
        0,
        visibility,
        Classification::Normal,
    );
    Expert {
        meta: Some(meta),
        full_name: core.name,
        gender: if core.female {
            Gender::Female
        } else {
            Gender::Male
        } as i32,
        birth_year,
        academic_title: title as i32,
        degree: degree as i32,
        position: position.to_owned(),
        organization_id,
        organization_name,
        field_codes,
        specialization: sub.specialization.to_owned(),
        keywords,
        identifiers: Some(ExpertIdentifiers {
            orcid,
            scopus_author_id: scopus,
            researcher_id,
        }),
        contact: Some(ContactDetails { email, phone }),
        contact_sharing_consent: consent,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orcid_check_digit() {
        // The check digit of ORCID's documented example 0000-0002-1694-233X.
        let digits = [0, 0, 0, 0, 0, 0, 0, 2, 1, 6, 9, 4, 2, 3, 3];
        let mut total = 0u32;
        for d in digits {
            total = (total + d) * 2;
        }
        assert_eq!((12 - total % 11) % 11, 10);
        let mut dice = Dice::new(7);
        for _ in 0..100 {
            let id = orcid(&mut dice);
            assert_eq!(id.len(), 19);
            assert!(id.starts_with("0000-000"));
        }
    }
}
