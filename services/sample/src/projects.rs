//! Projects: S&T tasks (đề tài, dự án) through their lifecycle
//! proposed → approved → ongoing → completed | cancelled.

use lienthong_proto::v1::{
    AcceptanceGrade, Classification, ManagementLevel, Project, ProjectPerson, ProjectRole,
    ProjectStatus, ProjectType, Visibility,
};

use crate::dates::{
    days_from_civil, first_of_month, iso_date, last_of_month, month_index, year_of,
};
use crate::dice::Dice;
use crate::experts::{self, field_codes, keywords};
use crate::fields::{self, Subfield};
use crate::{Kind, SampleGenerator, names};

/// First and last planned start years.
pub(crate) const FIRST_YEAR: i64 = 1997;
pub(crate) const LAST_YEAR: i64 = 2025;

/// Start-year weights for 1997..=2025: the digitised 1997–2000 archive, a quieter
/// 2000s, and more tasks in recent years.
const YEAR_WEIGHTS: [u32; (LAST_YEAR - FIRST_YEAR + 1) as usize] = {
    let mut weights = [0u32; (LAST_YEAR - FIRST_YEAR + 1) as usize];
    let mut index = 0;
    while index < weights.len() {
        let year = FIRST_YEAR + index as i64;
        weights[index] = if year <= 2000 {
            5
        } else if year <= 2010 {
            3
        } else if year <= 2018 {
            4
        } else {
            5
        };
        index += 1;
    }
    weights
};

/// The part of a project other records need, drawn first from its stream.
pub(crate) struct ProjectCore {
    /// Index of the lead expert, when there are experts.
    pub(crate) lead: Option<u64>,
    /// Drawn start year (the planned start may move earlier for completed tasks).
    pub(crate) year: i64,
}

pub(crate) fn core(g: &SampleGenerator, i: u64) -> (ProjectCore, Dice) {
    let mut dice = g.dice(Kind::Project, i);
    let experts = g.spec.experts;
    let lead = (experts > 0).then(|| dice.below(experts));
    let year = FIRST_YEAR + dice.weighted_index(&YEAR_WEIGHTS) as i64;
    (ProjectCore { lead, year }, dice)
}

/// Snapshot date: acceptances and registrations happen no later than this.
fn snapshot() -> i64 {
    days_from_civil(2025, 9, 30)
}

/// The last day any project date may fall on.
fn last_day() -> i64 {
    days_from_civil(LAST_YEAR, 12, 31)
}

/// Day numbers of a task's schedule.
#[derive(Default)]
struct Schedule {
    planned_start: i64,
    planned_end: i64,
    actual_start: Option<i64>,
    actual_end: Option<i64>,
    acceptance: Option<i64>,
    registration: Option<i64>,
}

fn status_for_year(dice: &mut Dice, year: i64) -> ProjectStatus {
    use ProjectStatus as S;
    let table: &[(ProjectStatus, u32)] = match year {
        ..=2020 => &[(S::Completed, 92), (S::Cancelled, 8)],
        2021..=2022 => &[(S::Completed, 75), (S::Ongoing, 15), (S::Cancelled, 10)],
        2023 => &[(S::Completed, 45), (S::Ongoing, 45), (S::Cancelled, 10)],
        2024 => &[
            (S::Completed, 15),
            (S::Ongoing, 65),
            (S::Approved, 12),
            (S::Cancelled, 8),
        ],
        _ => &[(S::Proposed, 45), (S::Approved, 35), (S::Ongoing, 20)],
    };
    *dice.weighted(table)
}

/// Dates consistent with the status; everything between 1997 and 2025.
fn schedule(dice: &mut Dice, status: ProjectStatus, year: i64, trial: bool) -> Schedule {
    let duration = if trial {
        dice.range_i64(18, 36)
    } else {
        dice.range_i64(12, 36)
    };
    let reference = snapshot();
    match status {
        ProjectStatus::Completed | ProjectStatus::Cancelled => {
            let completed = status == ProjectStatus::Completed;
            let mut start_month = month_index(year, dice.range_u32(1, 12));
            let start_offset = dice.range_i64(0, 45);
            let delay = if dice.chance(4000) {
                dice.range_i64(30, 240)
            } else {
                0
            };
            let acceptance_offset = dice.range_i64(10, 90);
            let registration_offset = dice.range_i64(1, 30);
            let stop_offset = dice.range_i64(90, duration * 20);
            let build = |start_month: i64| {
                let planned_start = first_of_month(start_month);
                let planned_end = last_of_month(start_month + duration - 1);
                let actual_start = planned_start + start_offset;
                if completed {
                    let actual_end = planned_end + delay;
                    let acceptance = actual_end + acceptance_offset;
                    Schedule {
                        planned_start,
                        planned_end,
                        actual_start: Some(actual_start),
                        actual_end: Some(actual_end),
                        acceptance: Some(acceptance),
                        registration: Some(acceptance + registration_offset),
                    }
                } else {
                    Schedule {
                        planned_start,
                        planned_end,
                        actual_start: Some(actual_start),
                        actual_end: Some(actual_start + stop_offset),
                        ..Schedule::default()
                    }
                }
            };
            // Days past the allowed range: events after the snapshot, plans after 2025.
            let excess = |s: &Schedule| {
                let last_event = s.registration.or(s.actual_end).unwrap_or(s.planned_end);
                (last_event - reference)
                    .max(s.planned_end - last_day())
                    .max(0)
            };
            let mut plan = build(start_month);
            if excess(&plan) > 0 {
                start_month -= (excess(&plan) + 27) / 28;
                plan = build(start_month);
                while excess(&plan) > 0 {
                    start_month -= 1;
                    plan = build(start_month);
                }
            }
            plan
        }
        ProjectStatus::Ongoing => {
            let end_month = if dice.chance(7500) {
                month_index(2025, dice.range_u32(10, 12))
            } else {
                month_index(2025, dice.range_u32(3, 9))
            };
            let planned_start = first_of_month(end_month - duration + 1);
            Schedule {
                planned_start,
                planned_end: last_of_month(end_month),
                actual_start: Some(planned_start + dice.range_i64(0, 45)),
                ..Schedule::default()
            }
        }
        _ => {
            let first = if status == ProjectStatus::Approved {
                1
            } else {
                3
            };
            let start_month = month_index(2025, dice.range_u32(first, first + 7));
            let end_month = (start_month + dice.range_i64(6, 12) - 1).min(month_index(2025, 12));
            Schedule {
                planned_start: first_of_month(start_month),
                planned_end: last_of_month(end_month),
                ..Schedule::default()
            }
        }
    }
}

/// A budget in VND between 200 million and 5 billion, in whole millions.
fn total_budget(dice: &mut Dice) -> u64 {
    let (low, high) = *dice.weighted(&[
        ((200, 500), 35),
        ((500, 1_000), 30),
        ((1_000, 2_000), 22),
        ((2_000, 5_000), 13),
    ]);
    dice.range(low, high) * 1_000_000
}

const RESEARCH_TITLES: &[&str] = &[
    "Nghiên cứu ứng dụng {m} trong {t} tại tỉnh {P}",
    "Nghiên cứu giải pháp {t} trên địa bàn tỉnh {P}",
    "Đánh giá thực trạng và đề xuất giải pháp {t} tại tỉnh {P}",
    "Nghiên cứu cơ sở khoa học và thực tiễn phục vụ {t} tỉnh {P} giai đoạn {Y1}–{Y2}",
    "Ứng dụng {m} nhằm nâng cao hiệu quả {t} tại {D}, tỉnh {P}",
    "Nghiên cứu, đánh giá hiệu quả {m} trong {t} ở tỉnh {P}",
];

const TRIAL_TITLES: &[&str] = &[
    "Xây dựng mô hình {t} tại {D}, tỉnh {P}",
    "Ứng dụng tiến bộ khoa học kỹ thuật xây dựng mô hình {t} tại tỉnh {P}",
    "Hoàn thiện và chuyển giao {m} phục vụ {t} tại tỉnh {P}",
    "Ứng dụng {m} xây dựng mô hình {t} tại {D}",
];

/// Fills a title or sentence template.
pub(crate) struct Phrases<'a> {
    pub(crate) method: &'a str,
    pub(crate) target: &'a str,
    pub(crate) province: &'a str,
    pub(crate) district: &'a str,
    pub(crate) year: i64,
}

impl Phrases<'_> {
    pub(crate) fn fill(&self, template: &str) -> String {
        let mut out = String::with_capacity(template.len() + 96);
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            let Some(close) = after.find('}') else {
                out.push_str(&rest[open..]);
                return out;
            };
            match &after[..close] {
                "m" => out.push_str(self.method),
                "t" => out.push_str(self.target),
                "P" => out.push_str(self.province),
                "D" => out.push_str(self.district),
                "Y1" => out.push_str(&self.year.to_string()),
                "Y2" => out.push_str(&(self.year + 4).to_string()),
                other => {
                    out.push('{');
                    out.push_str(other);
                    out.push('}');
                }
            }
            rest = &after[close + 1..];
        }
        out.push_str(rest);
        out
    }
}

/// A district of the province for a task starting in `year`.
pub(crate) fn district<'a>(g: &'a SampleGenerator, dice: &mut Dice, year: i64) -> &'a str {
    let p = &g.province;
    let merged = year >= 2025 && !p.merged_districts.is_empty() && dice.chance(4000);
    let list = if merged {
        &p.merged_districts
    } else {
        &p.districts
    };
    dice.pick(list).as_str()
}

fn objectives(dice: &mut Dice, sub: &Subfield, ph: &Phrases<'_>) -> String {
    let general = ph.fill(dice.pick_str(&[
        "Mục tiêu chung: góp phần nâng cao hiệu quả {t} trên địa bàn tỉnh {P}.",
        "Mục tiêu chung: xác lập cơ sở khoa học và giải pháp phục vụ {t} tại tỉnh {P}.",
        "Mục tiêu chung: ứng dụng {m} để phát triển bền vững {t} ở tỉnh {P}.",
    ]));
    let keyword = dice.pick_str(sub.keywords);
    let units = dice.range(2, 6);
    let specific = match dice.below(3) {
        0 => format!(
            "Mục tiêu cụ thể: đánh giá được thực trạng {keyword} tại {}; xây dựng được quy trình {} và chuyển giao cho ít nhất {units} đơn vị ứng dụng.",
            ph.district, ph.method
        ),
        1 => format!(
            "Mục tiêu cụ thể: hoàn thiện quy trình kỹ thuật về {keyword}; đào tạo {} kỹ thuật viên và xây dựng {units} mô hình trình diễn.",
            dice.range(10, 60)
        ),
        _ => format!(
            "Mục tiêu cụ thể: đề xuất {units} nhóm giải pháp về {keyword} phù hợp với điều kiện của tỉnh {}.",
            ph.province
        ),
    };
    format!("{general} {specific}")
}

fn summary(dice: &mut Dice, sub: &Subfield, ph: &Phrases<'_>, status: ProjectStatus) -> String {
    let communes = dice.range(3, 15);
    let percent = dice.range(8, 35);
    let keyword = dice.pick_str(sub.keywords);
    match status {
        ProjectStatus::Completed => {
            let first = format!(
                "Nhiệm vụ đã khảo sát, điều tra tại {communes} xã thuộc {}, tỉnh {}.",
                ph.district, ph.province
            );
            let second = format!(
                "Kết quả cho thấy việc áp dụng {} giúp nâng cao hiệu quả {} {percent}% so với phương pháp truyền thống.",
                ph.method, ph.target
            );
            if dice.chance(6000) {
                format!(
                    "{first} {second} Nhiệm vụ đã đề xuất {} giải pháp về {keyword} để nhân rộng trên địa bàn tỉnh.",
                    dice.range(2, 5)
                )
            } else {
                format!("{first} {second}")
            }
        }
        ProjectStatus::Cancelled => format!(
            "Nhiệm vụ triển khai tại {} nhằm ứng dụng {} trong {}. Nhiệm vụ đã dừng thực hiện do không bảo đảm tiến độ và điều kiện triển khai.",
            ph.district, ph.method, ph.target
        ),
        _ => format!(
            "Nhiệm vụ dự kiến triển khai tại {communes} xã thuộc {}, tỉnh {}, tập trung vào {keyword}. Kết quả dự kiến là quy trình {} có thể nhân rộng, góp phần nâng cao hiệu quả {} khoảng {percent}%.",
            ph.district, ph.province, ph.method, ph.target
        ),
    }
}

pub(crate) fn project(g: &SampleGenerator, i: u64) -> Project {
    let (core, mut dice) = core(g, i);
    let lead_core = core.lead.map(|j| experts::core(g, j).0);
    let (field, sub_index) = match &lead_core {
        Some(lead) => (lead.field, lead.sub),
        None => {
            let field = dice.range(1, 6) as u8;
            (field, dice.index(fields::field(field).subfields.len()))
        }
    };
    let sub = &fields::field(field).subfields[sub_index];
    let trial = dice.chance(2500);
    let level = *dice.weighted(&[
        (ManagementLevel::Province, 75),
        (ManagementLevel::Grassroots, 12),
        (ManagementLevel::National, 6),
        (ManagementLevel::Ministry, 7),
    ]);
    let status = status_for_year(&mut dice, core.year);
    let plan = schedule(&mut dice, status, core.year, trial);
    let year = year_of(plan.planned_start);
    let province = g.province.name.as_str();
    let district = district(g, &mut dice, year);
    let phrases = Phrases {
        method: dice.pick_str(sub.methods),
        target: dice.pick_str(sub.targets),
        province,
        district,
        year: (year - 1) / 5 * 5 + 1,
    };
    let title = phrases.fill(dice.pick_str(if trial { TRIAL_TITLES } else { RESEARCH_TITLES }));
    let code = format!(
        "{}.{}.{year}.{:02}",
        if trial { "DA" } else { "ĐT" },
        g.province.prefix,
        i + 1
    );

    let (lead, host) = match (core.lead, lead_core) {
        (Some(j), Some(lead)) => (
            ProjectPerson {
                name: lead.name,
                expert_id: g.id(Kind::Expert, j),
                role: ProjectRole::Lead as i32,
            },
            lead.org,
        ),
        _ => {
            let female = dice.chance(4000);
            let person = ProjectPerson {
                name: names::full_name(&mut dice, female),
                expert_id: String::new(),
                role: ProjectRole::Lead as i32,
            };
            let orgs = g.spec.organizations;
            (person, (orgs > 0).then(|| dice.below(orgs)))
        }
    };
    let member_count = if trial {
        dice.range(2, 5)
    } else {
        dice.range(3, 6)
    } as usize;
    let secretary = dice.chance(7000).then_some(member_count - 1);
    let co_lead = dice.chance(1500);
    let mut used = vec![core.lead.unwrap_or(u64::MAX)];
    let mut members = Vec::with_capacity(member_count);
    for position in 0..member_count {
        let role = if position == 0 && co_lead {
            ProjectRole::CoLead
        } else if Some(position) == secretary {
            ProjectRole::Secretary
        } else {
            ProjectRole::Member
        };
        let linked = g.spec.experts > 1 && dice.chance(7500);
        let candidate = linked.then(|| dice.below(g.spec.experts));
        let person = match candidate {
            Some(j) if !used.contains(&j) => {
                used.push(j);
                ProjectPerson {
                    name: experts::core(g, j).0.name,
                    expert_id: g.id(Kind::Expert, j),
                    role: role as i32,
                }
            }
            _ => {
                let female = dice.chance(4000);
                ProjectPerson {
                    name: names::full_name(&mut dice, female),
                    expert_id: String::new(),
                    role: role as i32,
                }
            }
        };
        members.push(person);
    }

    let managing_agency = match level {
        ManagementLevel::Province => {
            if dice.chance(5500) {
                format!("Sở Khoa học và Công nghệ {province}")
            } else {
                format!("UBND tỉnh {province}")
            }
        }
        ManagementLevel::Grassroots => match host {
            Some(j) if dice.chance(5000) => g.catalog.name(j),
            _ => format!("UBND {district}"),
        },
        ManagementLevel::National => "Bộ Khoa học và Công nghệ".to_owned(),
        _ => {
            if field == 4 && year >= 2025 {
                "Bộ Nông nghiệp và Môi trường".to_owned()
            } else {
                fields::field(field).ministry.to_owned()
            }
        }
    };
    let total = total_budget(&mut dice);
    let state_percent = if trial {
        dice.range(30, 60)
    } else {
        match level {
            ManagementLevel::Grassroots => dice.range(40, 80),
            _ => dice.range(70, 100),
        }
    };
    let state = total / 1_000_000 * state_percent / 100 * 1_000_000;

    let legacy = if year < 2012 { 7000 } else { 1000 };
    let field_codes = field_codes(&mut dice, field, sub_index, legacy);
    let mut keywords = keywords(&mut dice, sub.keywords, 3, 5);
    if dice.chance(3000) {
        keywords.push(province.to_owned());
    }
    let objectives = objectives(&mut dice, sub, &phrases);
    let summary = summary(&mut dice, sub, &phrases, status);

    let completed = status == ProjectStatus::Completed;
    let grade = if completed {
        *dice.weighted(&[
            (AcceptanceGrade::Excellent, 15),
            (AcceptanceGrade::Good, 45),
            (AcceptanceGrade::Pass, 38),
            (AcceptanceGrade::Fail, 2),
        ])
    } else {
        AcceptanceGrade::Unspecified
    };
    let registration = plan.registration.filter(|_| grade != AcceptanceGrade::Fail);
    let result_registration_number = registration.map_or_else(String::new, |day| {
        format!("{}/{}/ĐKKQ-SKHCN", dice.range(1, 80), year_of(day))
    });
    let archived = completed && (year <= 2000 || dice.chance(5000));
    let (archive_reference, digitized_pages) = if archived {
        (
            format!("{}/KQNC-SKHCN", dice.range(1, 500)),
            dice.range_u32(40, 400),
        )
    } else {
        (String::new(), 0)
    };

    let classification = match dice.below(1000) {
        0..=2 => Classification::Secret,
        3..=19 => Classification::Confidential,
        _ => Classification::Normal,
    };
    let visibility =
        if status == ProjectStatus::Proposed || classification != Classification::Normal {
            Visibility::Internal
        } else if status == ProjectStatus::Ongoing {
            if dice.chance(8000) {
                Visibility::Public
            } else {
                Visibility::Federation
            }
        } else {
            *dice.weighted(&[
                (Visibility::Public, 40),
                (Visibility::Federation, 55),
                (Visibility::Internal, 5),
            ])
        };
    let earliest = plan.planned_start - 120;
    let meta = g.meta(
        Kind::Project,
        i,
        &mut dice,
        earliest,
        visibility,
        classification,
    );
    let date = |day: Option<i64>| day.map_or_else(String::new, iso_date);

    Project {
        meta: Some(meta),
        code,
        title,
        project_type: if trial {
            ProjectType::ProductionTrial
        } else {
            ProjectType::Research
        } as i32,
        management_level: level as i32,
        status: status as i32,
        lead: Some(lead),
        members,
        host_organization_id: host.map_or_else(String::new, |j| g.id(Kind::Organization, j)),
        host_organization_name: host.map_or_else(String::new, |j| g.catalog.name(j)),
        managing_agency,
        field_codes,
        planned_start: iso_date(plan.planned_start),
        planned_end: iso_date(plan.planned_end),
        actual_start: date(plan.actual_start),
        actual_end: date(plan.actual_end),
        total_budget_vnd: total,
        state_budget_vnd: state,
        acceptance_date: date(plan.acceptance),
        acceptance_grade: grade as i32,
        result_registration_number,
        result_registration_date: date(registration),
        objectives,
        summary,
        keywords,
        archive_reference,
        digitized_pages,
    }
}
