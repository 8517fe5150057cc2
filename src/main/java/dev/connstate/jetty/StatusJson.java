package dev.connstate.jetty;

import java.time.Instant;

import dev.connstate.ConnState;
import dev.connstate.sink.Json;

/**
 * Writes the status path's JSON table from a {@link StatusSnapshot}: the time, the counts per
 * state, how many rows a state shows at most and whether one was cut, and one row per connection
 * shown, in the README's field order.
 *
 * <p>Called on the status request's thread (or the actuator endpoint's); stateless.</p>
 */
final class StatusJson
{
    private StatusJson()
    {
    }

    /**
     * @return the table, written with the jsonl sink's writer and address texts
     */
    static Json write(StatusSnapshot snapshot)
    {
        Json json = new Json(256 + snapshot.rows.size() * 200);
        json.raw("{\"time\":").time(Instant.ofEpochMilli(snapshot.timeMillis));
        json.raw(",\"counts\":{\"new\":").number(snapshot.counts.get(ConnState.NEW));
        json.raw(",\"active\":").number(snapshot.counts.get(ConnState.ACTIVE));
        json.raw(",\"idle\":").number(snapshot.counts.get(ConnState.IDLE));
        json.raw("},\"shownPerState\":").number(snapshot.maxRowsPerState);
        json.raw(",\"truncated\":").bool(snapshot.truncated());
        json.raw(",\"connections\":[");
        boolean first = true;
        for (StatusSnapshot.Row row : snapshot.rows)
        {
            json.raw(first ? "{\"id\":" : ",{\"id\":").number(row.id());
            first = false;
            json.raw(",\"remote\":").string(row.remote());
            json.raw(",\"local\":").string(row.local());
            json.raw(",\"protocol\":").string(row.protocol());
            json.raw(",\"secure\":").bool(row.secure());
            json.raw(",\"state\":").string(row.state().toString());
            json.raw(",\"stateMs\":").number(row.stateMillis());
            json.raw(",\"ageMs\":").number(row.ageMillis());
            json.raw(",\"requests\":").number(row.requests());
            json.raw("}");
        }
        json.raw("]}");
        return json;
    }
}
