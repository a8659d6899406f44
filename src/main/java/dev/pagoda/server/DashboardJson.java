package dev.pagoda.server;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.pagoda.engine.EngineGauges;
import dev.pagoda.engine.EngineMetrics;
import dev.pagoda.engine.EngineStats;
import dev.pagoda.engine.FinishReason;
import dev.pagoda.engine.KvBlockMap;
import dev.pagoda.engine.KvCacheUsage;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;

/**
 * What the web page reads, as JSON written on the HTTP thread: the KV block map ({@code kv.block_map}: per-block
 * parallel arrays, owners as (block, sequence, first position, count) entries, the contiguous layout's
 * reservations and free runs) and the engine's counters ({@code engine.stats}). Both carry the KV accounting
 * by kind under the names {@code /metrics} uses.
 */
final class DashboardJson {
    private DashboardJson() {
    }

    static String blockMap(KvBlockMap m) {
        return write(m.numBlocks() * 24 + m.owners() * 16, g -> {
            g.writeStringField("object", "kv.block_map");
            g.writeStringField("layout", m.layout());
            g.writeNumberField("version", m.version());
            g.writeNumberField("steps", m.steps());
            g.writeNumberField("time_ms", m.timeMillis());
            g.writeNumberField("block_size", m.blockSize());
            g.writeNumberField("num_blocks", m.numBlocks());
            g.writeObjectFieldStart("flag_bits");
            g.writeNumberField("cached", KvBlockMap.CACHED);
            g.writeNumberField("copied", KvBlockMap.COPIED);
            g.writeNumberField("external", KvBlockMap.EXTERNAL);
            g.writeEndObject();
            int n = m.numBlocks();
            g.writeObjectFieldStart("blocks");
            ints(g, "ref_count", n, m::refCount);
            ints(g, "token_slots", n, m::tokenSlots);
            ints(g, "reserved_slots", n, m::reservedSlots);
            ints(g, "flags", n, m::flags);
            ints(g, "eviction_rank", n, m::evictionRank);
            g.writeEndObject();
            g.writeObjectFieldStart("sequences");
            g.writeArrayFieldStart("request_id");
            for (int s = 0; s < m.sequences(); s++) {
                g.writeString(m.requestId(s));
            }
            g.writeEndArray();
            ints(g, "index", m.sequences(), m::sampleIndex);
            ints(g, "length", m.sequences(), m::sequenceLength);
            g.writeEndObject();
            g.writeObjectFieldStart("owners");
            ints(g, "block", m.owners(), m::ownerBlock);
            ints(g, "sequence", m.owners(), m::ownerSequence);
            ints(g, "first_position", m.owners(), m::ownerFirst);
            ints(g, "tokens", m.owners(), m::ownerCount);
            g.writeEndObject();
            g.writeObjectFieldStart("reservations");
            ints(g, "sequence", m.reservations(), m::reservationSequence);
            ints(g, "base_slot", m.reservations(), m::reservationBase);
            ints(g, "slots", m.reservations(), m::reservationSlots);
            ints(g, "length", m.reservations(), m::reservationLength);
            g.writeEndObject();
            g.writeObjectFieldStart("holes");
            ints(g, "start_slot", m.holes(), m::holeStart);
            ints(g, "slots", m.holes(), m::holeSlots);
            g.writeArrayFieldStart("external");
            for (int h = 0; h < m.holes(); h++) {
                g.writeBoolean(m.holeExternal(h));
            }
            g.writeEndArray();
            g.writeEndObject();
            kv(g, m.usage());
        });
    }

    /** The engine's gauges and counters (as last published), for the dashboard; rates are the reader's differences. */
    static String stats(EngineGauges gauges, EngineMetrics metrics) {
        EngineStats.Snapshot s = metrics.stats();
        return write(1024, g -> {
            g.writeStringField("object", "engine.stats");
            g.writeNumberField("time_ms", System.currentTimeMillis());
            g.writeNumberField("running", gauges.running());
            g.writeNumberField("waiting", gauges.waiting());
            g.writeNumberField("swapped", gauges.swapped());
            g.writeNumberField("steps_total", s.steps());
            g.writeNumberField("requests_total", s.requestsAdded());
            g.writeNumberField("prompt_tokens_total", s.promptTokens());
            g.writeNumberField("generation_tokens_total", s.generationTokens());
            g.writeObjectFieldStart("preemptions_total");
            g.writeNumberField("recompute", gauges.recomputePreemptions());
            g.writeNumberField("swap", gauges.swapPreemptions());
            g.writeEndObject();
            g.writeObjectFieldStart("prefix_cache");
            g.writeNumberField("queries_total", s.prefixQueriedTokens());
            g.writeNumberField("hits_total", s.prefixHitTokens());
            g.writeNumberField("cached_blocks", s.prefixCachedBlocks());
            g.writeEndObject();
            g.writeObjectFieldStart("requests_finished_total");
            for (FinishReason r : FinishReason.values()) {
                g.writeNumberField(r.openAiName(), s.finished().getOrDefault(r, 0L));
            }
            g.writeEndObject();
            kv(g, metrics.kv());
        });
    }

    /** The KV accounting by kind, named as in /metrics (pagoda:kv_cache_slots, _blocks, _waste_perc, _usage_perc). */
    private static void kv(JsonGenerator g, KvCacheUsage kv) throws IOException {
        g.writeObjectFieldStart("kv_cache");
        g.writeStringField("layout", kv.layout());
        g.writeNumberField("usage_perc", kv.usageFraction());
        g.writeNumberField("waste_perc", kv.wasteFraction());
        g.writeObjectFieldStart("slots");
        g.writeNumberField("token", kv.tokenSlots());
        g.writeNumberField("internal_fragmentation", kv.internalFragmentation());
        g.writeNumberField("reserved", kv.reservedSlots());
        g.writeNumberField("free", kv.freeSlots());
        g.writeEndObject();
        g.writeNumberField("external_fragmentation_slots", kv.externalFragmentation());
        g.writeObjectFieldStart("blocks");
        g.writeNumberField("free", kv.blocksFree());
        g.writeNumberField("used", kv.blocksUsed());
        g.writeNumberField("shared", kv.blocksShared());
        g.writeEndObject();
        g.writeNumberField("sequence_tokens", kv.sequenceTokens());
        g.writeEndObject();
    }

    private interface IntAt {
        int at(int i);
    }

    private static void ints(JsonGenerator g, String name, int n, IntAt values) throws IOException {
        g.writeArrayFieldStart(name);
        for (int i = 0; i < n; i++) {
            g.writeNumber(values.at(i));
        }
        g.writeEndArray();
    }

    private interface Body {
        void write(JsonGenerator g) throws IOException;
    }

    private static String write(int sizeHint, Body body) {
        StringWriter out = new StringWriter(sizeHint);
        try (JsonGenerator g = JsonFields.JSON.getFactory().createGenerator(out)) {
            g.writeStartObject();
            body.write(g);
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString();
    }
}
