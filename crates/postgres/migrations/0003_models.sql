-- Trained models, what each training run used, and the predictions models make.

CREATE TABLE model_metadata (
    model_id       TEXT        PRIMARY KEY,
    kind           TEXT        NOT NULL,
    config         JSONB       NOT NULL DEFAULT '{}'::jsonb,
    feature_schema JSONB       NOT NULL DEFAULT '{}'::jsonb,
    metrics        JSONB       NOT NULL DEFAULT '{}'::jsonb,
    artifact_path  TEXT,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- One row per (run, series, split, window): the bars a training run used, by bounds only, so a
-- run is reproducible from processed_market_data without copying its features.
CREATE TABLE training_sequences (
    run_id          TEXT        NOT NULL,
    model_id        TEXT        NOT NULL,
    exchange        TEXT        NOT NULL,
    symbol          TEXT        NOT NULL,
    interval        TEXT        NOT NULL,
    split           TEXT        NOT NULL CHECK (split IN ('train', 'validation', 'test')),
    window_index    INTEGER     NOT NULL DEFAULT 0,
    start_ms        BIGINT      NOT NULL,
    end_ms          BIGINT      NOT NULL,
    start_time      TIMESTAMPTZ NOT NULL GENERATED ALWAYS AS (to_timestamp(start_ms / 1000.0)) STORED,
    end_time        TIMESTAMPTZ NOT NULL GENERATED ALWAYS AS (to_timestamp(end_ms / 1000.0)) STORED,
    feature_set     TEXT        NOT NULL,
    feature_version INTEGER     NOT NULL,
    seq_len         INTEGER     NOT NULL,
    horizon         INTEGER     NOT NULL,
    rows            BIGINT      NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, exchange, symbol, interval, split, window_index),
    CHECK (start_ms <= end_ms)
);

CREATE INDEX training_sequences_model ON training_sequences (model_id);

-- A model's prediction for the bar opening at open_time_ms, `horizon` bars ahead. `realised` is
-- the target the prediction is scored against (NULL until it is known); realised_long and
-- realised_short are the net returns of the partial-close ladder entered long / short at this
-- bar (er_long / er_short of processed_market_data), for the ladder hit rate.
CREATE TABLE model_predictions (
    model_id       TEXT             NOT NULL,
    symbol         TEXT             NOT NULL,
    interval       TEXT             NOT NULL,
    open_time_ms   BIGINT           NOT NULL,
    open_time      TIMESTAMPTZ      NOT NULL GENERATED ALWAYS AS (to_timestamp(open_time_ms / 1000.0)) STORED,
    horizon        INTEGER          NOT NULL,
    prediction     DOUBLE PRECISION NOT NULL,
    probabilities  DOUBLE PRECISION[],
    realised       DOUBLE PRECISION,
    realised_long  DOUBLE PRECISION,
    realised_short DOUBLE PRECISION,
    created_at     TIMESTAMPTZ      NOT NULL DEFAULT now(),
    PRIMARY KEY (model_id, symbol, interval, open_time_ms, horizon)
);

CREATE INDEX model_predictions_time ON model_predictions (model_id, open_time);
