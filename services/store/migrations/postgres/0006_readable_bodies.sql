-- Records readable with plain SQL (docs/decisions/006-search-engine.md).
--
-- The body becomes the protobuf JSON mapping of the record in a jsonb column
-- (camelCase fields; enums as their names, e.g. "DEGREE_DOCTOR"; 64-bit
-- numbers as strings; fields at their default value left out). Bodies kept
-- as protobuf bytes by earlier versions are moved to `body_protobuf` here and
-- converted by the store when it opens the database, which then drops that
-- column (SQL alone cannot decode protobuf).
ALTER TABLE records RENAME COLUMN body TO body_protobuf;
ALTER TABLE records ADD COLUMN body jsonb;

-- Per-kind views of the live records with their main columns, for reporting
-- tools (Metabase, Excel over ODBC). Experts' personal fields (email, phone,
-- birth year) are left out on purpose; they are in the body for those who
-- need them. The views hold every live record, internal and classified ones
-- included, with their visibility and classification: grant them to the
-- department's own reporting role only.
-- `visibility` and `classification` come as enum names; NULL means unset.
CREATE VIEW report_organizations AS
SELECT id, version, created_at::timestamptz AS created_at, updated_at::timestamptz AS updated_at,
       body->'meta'->>'visibility'      AS visibility,
       body->'meta'->>'classification'  AS classification,
       body->>'name'                    AS name,
       body->>'abbreviation'            AS abbreviation,
       body->>'organizationType'        AS organization_type,
       body->>'province'                AS province,
       body->>'parentId'                AS parent_id,
       body->>'agencyCode'              AS agency_code,
       body->>'successorId'             AS successor_id
FROM records WHERE kind = 1 AND deleted = 0;

CREATE VIEW report_experts AS
SELECT id, version, created_at::timestamptz AS created_at, updated_at::timestamptz AS updated_at,
       body->'meta'->>'visibility'      AS visibility,
       body->'meta'->>'classification'  AS classification,
       body->>'fullName'                AS full_name,
       body->>'gender'                  AS gender,
       body->>'academicTitle'           AS academic_title,
       body->>'degree'                  AS degree,
       body->>'position'                AS position,
       body->>'organizationId'          AS organization_id,
       body->>'organizationName'        AS organization_name,
       ARRAY(SELECT jsonb_array_elements_text(COALESCE(body->'fieldCodes', '[]'))) AS field_codes,
       body->>'specialization'          AS specialization,
       ARRAY(SELECT jsonb_array_elements_text(COALESCE(body->'keywords', '[]'))) AS keywords,
       body->'identifiers'->>'orcid'    AS orcid
FROM records WHERE kind = 2 AND deleted = 0;

CREATE VIEW report_projects AS
SELECT id, version, created_at::timestamptz AS created_at, updated_at::timestamptz AS updated_at,
       body->'meta'->>'visibility'      AS visibility,
       body->'meta'->>'classification'  AS classification,
       body->>'code'                    AS code,
       body->>'title'                   AS title,
       body->>'projectType'             AS project_type,
       body->>'managementLevel'         AS management_level,
       body->>'status'                  AS status,
       body->'lead'->>'name'            AS lead_name,
       body->'lead'->>'expertId'        AS lead_expert_id,
       body->>'hostOrganizationId'      AS host_organization_id,
       body->>'hostOrganizationName'    AS host_organization_name,
       body->>'managingAgency'          AS managing_agency,
       ARRAY(SELECT jsonb_array_elements_text(COALESCE(body->'fieldCodes', '[]'))) AS field_codes,
       body->>'plannedStart'            AS planned_start,
       body->>'plannedEnd'              AS planned_end,
       body->>'actualStart'             AS actual_start,
       body->>'actualEnd'               AS actual_end,
       (body->>'totalBudgetVnd')::numeric AS total_budget_vnd,
       (body->>'stateBudgetVnd')::numeric AS state_budget_vnd,
       body->>'acceptanceDate'          AS acceptance_date,
       body->>'acceptanceGrade'         AS acceptance_grade,
       body->>'resultRegistrationNumber' AS result_registration_number,
       body->>'summary'                 AS summary
FROM records WHERE kind = 3 AND deleted = 0;

CREATE VIEW report_publications AS
SELECT id, version, created_at::timestamptz AS created_at, updated_at::timestamptz AS updated_at,
       body->'meta'->>'visibility'      AS visibility,
       body->'meta'->>'classification'  AS classification,
       body->>'title'                   AS title,
       ARRAY(SELECT a->>'name' FROM jsonb_array_elements(COALESCE(body->'authors', '[]')) AS a) AS authors,
       body->>'venue'                   AS venue,
       (body->>'year')::integer         AS year,
       body->>'doi'                     AS doi,
       body->>'language'                AS language,
       ARRAY(SELECT jsonb_array_elements_text(COALESCE(body->'fieldCodes', '[]'))) AS field_codes,
       body->>'projectId'               AS project_id
FROM records WHERE kind = 4 AND deleted = 0;
