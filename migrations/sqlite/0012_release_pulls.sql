-- Which merged pull requests' changes a release brought into its environment: what each pull
-- request's sticky comment says under "where is my change" (in staging since …, rolled back
-- from production at …). One row per pull request and release that first carried it.
CREATE TABLE release_pulls (
    repository     TEXT    NOT NULL,
    pr             INTEGER  NOT NULL,
    environment    TEXT    NOT NULL,
    release_id     TEXT    NOT NULL,
    version        TEXT    NOT NULL,
    sha            TEXT    NOT NULL,
    since          INTEGER  NOT NULL,
    rolled_back_at INTEGER,
    PRIMARY KEY (repository, pr, environment, release_id)
);
CREATE INDEX release_pulls_release ON release_pulls (release_id);
