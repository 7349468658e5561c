-- The schema of a store made by freshmock up to 2026-11 (commit 16751f6), before
-- migrations were recorded: open_store, then infer's tables and a saved [paths]
-- rule. tests/test_store_tables.py replays it to check such a store migrates.
CREATE TABLE "observations" (
   "id" INTEGER PRIMARY KEY,
   "observed_at" TEXT,
   "service" TEXT,
   "method" TEXT,
   "scheme" TEXT,
   "host" TEXT,
   "port" INTEGER,
   "path" TEXT,
   "query" TEXT,
   "request_headers" TEXT,
   "request_media_type" TEXT,
   "request_body" BLOB,
   "request_body_size" INTEGER,
   "request_body_truncated" INTEGER,
   "status" INTEGER,
   "response_headers" TEXT,
   "response_media_type" TEXT,
   "response_body" BLOB,
   "response_body_size" INTEGER,
   "response_body_truncated" INTEGER,
   "duration_ms" REAL,
   "error" TEXT,
   "request_body_sha256" TEXT,
   "response_body_sha256" TEXT,
   "response_streamed" INTEGER,
   "sampled_out" INTEGER,
   "flow_id" TEXT,
   "operation" TEXT,
   "discriminator" TEXT
);
CREATE INDEX "idx_observations_service_method_path"
    ON "observations" ("service", "method", "path");
CREATE INDEX "idx_observations_observed_at"
    ON "observations" ("observed_at");
CREATE TABLE "endpoints" (
   "service" TEXT,
   "method" TEXT,
   "path_template" TEXT,
   "operation" TEXT,
   "status" INTEGER,
   "media_type" TEXT,
   "discriminator" TEXT,
   "observations" INTEGER,
   "first_seen" TEXT,
   "last_seen" TEXT,
   "request_schema" TEXT,
   "response_schema" TEXT,
   "exemplar_id" INTEGER,
   "request_stats" TEXT,
   "response_stats" TEXT,
   PRIMARY KEY ("service", "method", "path_template", "operation", "status", "media_type")
);
CREATE TABLE "counters" (
   "run_id" TEXT PRIMARY KEY,
   "started_at" TEXT,
   "updated_at" TEXT,
   "pid" INTEGER,
   "service" TEXT,
   "seen" INTEGER,
   "recorded" INTEGER,
   "sampled_out" INTEGER,
   "dropped" INTEGER,
   "lost" INTEGER,
   "redacted" INTEGER,
   "errors" INTEGER,
   "detail" TEXT
);
CREATE TABLE "websocket_messages" (
   "id" INTEGER PRIMARY KEY,
   "flow_id" TEXT,
   "observed_at" TEXT,
   "service" TEXT,
   "path" TEXT,
   "seq" INTEGER,
   "from_client" INTEGER,
   "opcode" TEXT,
   "size" INTEGER,
   "truncated" INTEGER,
   "data" BLOB,
   "sha256" TEXT
);
CREATE INDEX "idx_websocket_messages_flow_id_seq"
    ON "websocket_messages" ("flow_id", "seq");
CREATE TABLE "infer_partials" (
   "service" TEXT,
   "method" TEXT,
   "path_template" TEXT,
   "operation" TEXT,
   "status" INTEGER,
   "media_type" TEXT,
   "day" TEXT,
   "discriminator" TEXT,
   "observations" INTEGER,
   "first_seen" TEXT,
   "last_seen" TEXT,
   "exemplar_id" INTEGER,
   "exemplar_observed_at" TEXT,
   "exemplar_kept" INTEGER,
   "exemplar_candidates" TEXT,
   "request_stats" TEXT,
   "response_stats" TEXT,
   PRIMARY KEY ("service", "method", "path_template", "operation", "status", "media_type", "day")
);
CREATE TABLE "infer_watermarks" (
   "name" TEXT PRIMARY KEY,
   "last_id" INTEGER,
   "version" TEXT
);
CREATE TABLE "path_shapes" (
   "service" TEXT,
   "shape" TEXT,
   "count" INTEGER,
   "signatures" TEXT,
   PRIMARY KEY ("service", "shape")
);
CREATE TABLE "path_locks" (
   "service" TEXT,
   "template" TEXT,
   "accepted_at" TEXT,
   PRIMARY KEY ("service", "template")
);
CREATE TABLE "schema_versions" (
   "service" TEXT,
   "method" TEXT,
   "path_template" TEXT,
   "operation" TEXT,
   "status" INTEGER,
   "media_type" TEXT,
   "discriminator" TEXT,
   "version" INTEGER,
   "shape_hash" TEXT,
   "request_schema" TEXT,
   "response_schema" TEXT,
   "first_seen" TEXT,
   "last_seen" TEXT,
   "observations" INTEGER,
   "total_observations" INTEGER,
   PRIMARY KEY ("service", "method", "path_template", "operation", "status", "media_type", "version")
);
CREATE TABLE "path_rules" (
   "name" TEXT PRIMARY KEY,
   "rules" TEXT,
   "saved_at" TEXT
);
insert into path_rules values ('paths', '{"discriminators": [], "literals": ["/users/me"], "merge_threshold": 10, "templates": []}', '2026-11-30T00:00:00Z');
