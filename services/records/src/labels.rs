//! Vietnamese labels for enum values, as department staff write them.

use lienthong_proto::v1::{
    AcademicTitle, AcceptanceGrade, Degree, Gender, ManagementLevel, OrganizationType,
    ProjectStatus,
};

/// "PGS.TS.", "GS.TSKH.", "ThS." or "" — title and degree written together.
pub fn title_and_degree(title: i32, degree: i32) -> String {
    let title = match AcademicTitle::try_from(title) {
        Ok(AcademicTitle::Professor) => "GS.",
        Ok(AcademicTitle::AssociateProfessor) => "PGS.",
        _ => "",
    };
    let degree = match Degree::try_from(degree) {
        Ok(Degree::DoctorOfScience) => "TSKH.",
        Ok(Degree::Doctor) => "TS.",
        Ok(Degree::Master) => "ThS.",
        Ok(Degree::Engineer) => "KS.",
        Ok(Degree::Bachelor) => "CN.",
        Ok(Degree::MedicalDoctor) => "BS.",
        _ => "",
    };
    format!("{title}{degree}")
}

/// Project status in Vietnamese.
pub fn project_status(status: i32) -> &'static str {
    match ProjectStatus::try_from(status) {
        Ok(ProjectStatus::Proposed) => "đề xuất",
        Ok(ProjectStatus::Approved) => "đã phê duyệt",
        Ok(ProjectStatus::Ongoing) => "đang thực hiện",
        Ok(ProjectStatus::Completed) => "đã nghiệm thu",
        Ok(ProjectStatus::Cancelled) => "đã hủy",
        _ => "",
    }
}

/// Management level (cấp quản lý) in Vietnamese.
pub fn management_level(level: i32) -> &'static str {
    match ManagementLevel::try_from(level) {
        Ok(ManagementLevel::National) => "quốc gia",
        Ok(ManagementLevel::Ministry) => "bộ",
        Ok(ManagementLevel::Province) => "tỉnh",
        Ok(ManagementLevel::Grassroots) => "cơ sở",
        _ => "",
    }
}

/// Gender as sheets write it.
pub fn gender(gender: i32) -> &'static str {
    match Gender::try_from(gender) {
        Ok(Gender::Male) => "Nam",
        Ok(Gender::Female) => "Nữ",
        Ok(Gender::Other) => "Khác",
        _ => "",
    }
}

/// The result of a task's acceptance (kết quả nghiệm thu).
pub fn acceptance_grade(grade: i32) -> &'static str {
    match AcceptanceGrade::try_from(grade) {
        Ok(AcceptanceGrade::Excellent) => "Xuất sắc",
        Ok(AcceptanceGrade::Good) => "Khá",
        Ok(AcceptanceGrade::Pass) => "Đạt",
        Ok(AcceptanceGrade::Fail) => "Không đạt",
        _ => "",
    }
}

/// A type of organization (loại hình).
pub fn organization_type(kind: i32) -> &'static str {
    match OrganizationType::try_from(kind) {
        Ok(OrganizationType::StateAgency) => "Cơ quan nhà nước",
        Ok(OrganizationType::University) => "Trường đại học",
        Ok(OrganizationType::ResearchInstitute) => "Viện nghiên cứu",
        Ok(OrganizationType::Hospital) => "Bệnh viện",
        Ok(OrganizationType::Enterprise) => "Doanh nghiệp",
        Ok(OrganizationType::Other) => "Khác",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn title_and_degree_are_written_together() {
        assert_eq!(
            title_and_degree(
                AcademicTitle::AssociateProfessor as i32,
                Degree::Doctor as i32
            ),
            "PGS.TS."
        );
        assert_eq!(title_and_degree(0, Degree::Master as i32), "ThS.");
        assert_eq!(title_and_degree(0, 0), "");
    }
}
