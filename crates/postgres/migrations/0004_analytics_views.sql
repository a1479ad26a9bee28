-- Analytics over model_predictions, readable by Metabase or psql (docs/analytics.md).
-- Only rows whose target is known (realised IS NOT NULL) are scored. Direction: a prediction's
-- sign equals the realised target's sign (sign() is -1, 0 or 1, so a zero only matches a zero).

CREATE VIEW model_symbol_metrics AS
WITH scored AS (
    SELECT model_id, symbol, prediction, realised,
           avg(realised) OVER (PARTITION BY model_id, symbol) AS mean_realised
    FROM model_predictions
    WHERE realised IS NOT NULL
)
SELECT model_id,
       symbol,
       count(*)                                                          AS n,
       avg(abs(prediction - realised))                                   AS mae,
       sqrt(avg((prediction - realised) ^ 2))                            AS rmse,
       1 - sum((prediction - realised) ^ 2)
           / nullif(sum((realised - mean_realised) ^ 2), 0)              AS r2,
       avg(CASE WHEN sign(prediction) = sign(realised) THEN 1.0 ELSE 0.0 END)::double precision
                                                                         AS direction_accuracy
FROM scored
GROUP BY model_id, symbol;

-- The ladder strategy with partial closes: every prediction other than 0 is a trade, long when
-- it is positive, short when negative; the trade's return is that side's ladder return
-- (realised_long / realised_short). A hit is a trade with a return above 0.
CREATE VIEW model_symbol_ladder AS
WITH trades AS (
    SELECT model_id, symbol,
           CASE WHEN prediction > 0 THEN realised_long ELSE realised_short END AS ladder_return
    FROM model_predictions
    WHERE prediction <> 0
      AND CASE WHEN prediction > 0 THEN realised_long ELSE realised_short END IS NOT NULL
)
SELECT model_id,
       symbol,
       count(*)                                                                  AS trades,
       avg(CASE WHEN ladder_return > 0 THEN 1.0 ELSE 0.0 END)::double precision  AS hit_rate,
       avg(ladder_return)                                                        AS mean_return,
       sum(ladder_return)                                                        AS total_return
FROM trades
GROUP BY model_id, symbol;

-- Per model, symbol and UTC day (of the predicted bar's open time).
CREATE VIEW model_daily_metrics AS
SELECT model_id,
       symbol,
       (open_time AT TIME ZONE 'UTC')::date                                            AS day,
       count(*)                                                                        AS n,
       avg(abs(prediction - realised))                                                 AS mae,
       avg(CASE WHEN sign(prediction) = sign(realised) THEN 1.0 ELSE 0.0 END)::double precision
                                                                                       AS direction_accuracy
FROM model_predictions
WHERE realised IS NOT NULL
GROUP BY model_id, symbol, (open_time AT TIME ZONE 'UTC')::date;
