package dev.pagoda.server;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;

/**
 * Reads a request body as one JSON object while it arrives, never holding the body's bytes whole. Its memory and
 * work are bounded by the context, not by the body limit: every string in a body is at most {@code maxChars} chars,
 * the bound past which a prompt cannot fit ({@link PromptBound}), so a longer one (a 15 MB prompt) is refused with
 * a 400 once that many of its chars were read (and at most one 64 Ki-char buffer segment more: the parser checks a
 * string's length as its buffer fills); the rest of the body is dropped unparsed by the connection's
 * lingering close. Strings that never reach the prompt (a grammar, a schema) get at least {@link #MIN_STRING_CHARS}.
 */
final class JsonBody {
    static final int MIN_STRING_CHARS = 1 << 16;

    private final ObjectMapper json;
    private final long maxChars;
    private final int maxModelLen;
    private final long maxBytes;

    JsonBody(PromptBound bound, long maxBytes) {
        this.maxChars = Math.max(bound.maxChars(), MIN_STRING_CHARS);
        this.maxModelLen = bound.maxModelLen();
        this.maxBytes = maxBytes;
        StreamReadConstraints limits = StreamReadConstraints.builder().maxStringLength((int) Math.min(Integer.MAX_VALUE, maxChars)).build();
        this.json = new ObjectMapper(JsonFactory.builder().streamReadConstraints(limits).disable(StreamReadFeature.AUTO_CLOSE_SOURCE).build())
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    }

    /**
     * The body as a JSON object: 413 past the body limit (judged from Content-Length when sent, else while reading
     * chunks), 400 for a string no prompt could need or a body that is not a JSON object. A failed read of the
     * connection (timeout, client gone) is thrown as it came.
     */
    ObjectNode read(Exchange ex) throws IOException {
        long declared = ex.declaredLength();
        if (declared > maxBytes) {
            throw ApiException.tooLarge(maxBytes);
        }
        InputStream in = declared < 0 ? new Limited(ex.body(), maxBytes) : ex.body();
        JsonNode n;
        try (JsonParser p = json.createParser(in)) {
            try {
                n = json.readTree(p);
            } catch (StreamConstraintsException e) {
                throw tooLong(p);
            } catch (JsonProcessingException e) {
                throw ApiException.badRequest("the request body is not valid JSON: " + e.getOriginalMessage(), null);
            }
        }
        if (!(n instanceof ObjectNode o)) {
            throw ApiException.badRequest("the request body must be a JSON object", null);
        }
        return o;
    }

    /** The 400 for a string over the limit, naming the top-level field that holds it (the parser stands inside it). */
    private ApiException tooLong(JsonParser p) {
        String pointer = p.getParsingContext().pathAsPointer().toString();
        int slash = pointer.indexOf('/', 1);
        String param = pointer.isEmpty() ? null : pointer.substring(1, slash < 0 ? pointer.length() : slash);
        return ApiException.promptTooLong("This model's maximum context length is " + maxModelLen + " tokens. However, your request "
                + "has a string at " + pointer + " longer than " + maxChars + " characters (no prompt that fits needs as many): "
                + "it was not tokenized nor read further.", param);
    }

    /** A chunked body, refused with 413 once it passes the limit. */
    private static final class Limited extends InputStream {
        private final InputStream in;
        private final long limit;
        private long read;

        Limited(InputStream in, long limit) {
            this.in = in;
            this.limit = limit;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = in.read(b, off, len);
            if (n > 0 && (read += n) > limit) {
                throw ApiException.tooLarge(limit);
            }
            return n;
        }
    }
}
