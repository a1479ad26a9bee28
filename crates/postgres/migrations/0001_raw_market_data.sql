-- Candles as the exchanges deliver them, one row per (exchange, symbol, interval, open time).
-- open_time_ms is the key (milliseconds since the epoch, UTC, the bar's open); open_time is the
-- same instant as timestamptz for Metabase and psql, computed by the database.
CREATE TABLE raw_market_data (
    exchange        TEXT             NOT NULL,
    symbol          TEXT             NOT NULL,
    interval        TEXT             NOT NULL,
    open_time_ms    BIGINT           NOT NULL,
    open_time       TIMESTAMPTZ      NOT NULL GENERATED ALWAYS AS (to_timestamp(open_time_ms / 1000.0)) STORED,
    open            DOUBLE PRECISION NOT NULL,
    high            DOUBLE PRECISION NOT NULL,
    low             DOUBLE PRECISION NOT NULL,
    close           DOUBLE PRECISION NOT NULL,
    volume          DOUBLE PRECISION NOT NULL,
    -- The optional Binance kline columns (NULL where the source does not give them).
    quote_volume    DOUBLE PRECISION,
    trades          BIGINT,
    taker_buy_base  DOUBLE PRECISION,
    taker_buy_quote DOUBLE PRECISION,
    PRIMARY KEY (exchange, symbol, interval, open_time_ms)
);

CREATE INDEX raw_market_data_symbol_time ON raw_market_data (symbol, interval, open_time);
