package dev.pagoda.constraint;

import java.util.Arrays;
import java.util.List;

/**
 * A Thompson automaton over UTF-8 bytes for an {@link Expr}: states with epsilon edges and byte-range
 * edges, one start, one accepting state. Immutable once built; the {@link Dfa} determinizes it lazily.
 */
final class Nfa {
    /** Above this many states a constraint is refused as too large (its bounded unrolling blew up). */
    static final int MAX_STATES = 2_000_000;

    final int start;
    final int accept;
    /** Per state: epsilon targets. */
    final int[][] eps;
    /** Per state: byte edges as triples (lo, hi, target). */
    final int[][] edges;

    private Nfa(int start, int accept, int[][] eps, int[][] edges) {
        this.start = start;
        this.accept = accept;
        this.eps = eps;
        this.edges = edges;
    }

    int size() {
        return eps.length;
    }

    static Nfa of(Expr e) {
        Builder b = new Builder();
        int start = b.newState();
        int end = b.build(e, start);
        return b.finish(start, end);
    }

    private static final class Builder {
        private int count;
        private int[][] eps = new int[64][];
        private int[][] edges = new int[64][];
        private int[] epsSize = new int[64];
        private int[] edgeSize = new int[64];

        int newState() {
            if (count == MAX_STATES) {
                throw new ConstraintException("the constraint is too large to compile (more than "
                        + MAX_STATES + " automaton states); lower maxItems/maxLength bounds or nesting");
            }
            if (count == eps.length) {
                eps = Arrays.copyOf(eps, count * 2);
                edges = Arrays.copyOf(edges, count * 2);
                epsSize = Arrays.copyOf(epsSize, count * 2);
                edgeSize = Arrays.copyOf(edgeSize, count * 2);
            }
            eps[count] = new int[0];
            edges[count] = new int[0];
            return count++;
        }

        void epsilon(int from, int to) {
            int[] a = eps[from];
            if (epsSize[from] == a.length) {
                a = eps[from] = Arrays.copyOf(a, Math.max(2, a.length * 2));
            }
            a[epsSize[from]++] = to;
        }

        void edge(int from, int lo, int hi, int to) {
            int[] a = edges[from];
            if (edgeSize[from] + 3 > a.length) {
                a = edges[from] = Arrays.copyOf(a, Math.max(6, a.length * 2));
            }
            int n = edgeSize[from];
            a[n] = lo;
            a[n + 1] = hi;
            a[n + 2] = to;
            edgeSize[from] = n + 3;
        }

        /** Adds e's paths from {@code from}; returns the state they all end in. */
        int build(Expr e, int from) {
            return switch (e) {
                case Expr.Chars c -> chars(c.set(), from);
                case Expr.Seq s -> {
                    int at = from;
                    for (Expr p : s.parts()) {
                        at = build(p, at);
                    }
                    yield at;
                }
                case Expr.Alt a -> {
                    int end = newState();
                    for (Expr o : a.options()) {
                        int s = newState();
                        epsilon(from, s);
                        epsilon(build(o, s), end);
                    }
                    yield end;
                }
                case Expr.Repeat r -> repeat(r.item(), r.min(), r.max(), from);
                case Expr.SepBy s -> sepBy(s, from);
            };
        }

        private int chars(CodePoints set, int from) {
            int end = newState();
            List<int[]> seqs = Utf8Ranges.of(set);
            for (int[] seq : seqs) {
                int at = from;
                for (int i = 0; i < seq.length; i += 2) {
                    int to = i + 2 == seq.length ? end : newState();
                    edge(at, seq[i], seq[i + 1], to);
                    at = to;
                }
            }
            return end;
        }

        private int repeat(Expr item, int min, int max, int from) {
            int at = from;
            for (int i = 0; i < min; i++) {
                at = build(item, at);
            }
            if (max == Expr.UNBOUNDED) {
                // A fresh loop state: only paths through item come back to it.
                int loop = newState();
                epsilon(at, loop);
                epsilon(build(item, loop), loop);
                return loop;
            }
            int end = newState();
            epsilon(at, end);
            for (int i = min; i < max; i++) {
                int s = newState();
                epsilon(at, s);
                at = build(item, s);
                epsilon(at, end);
            }
            return end;
        }

        private int sepBy(Expr.SepBy s, int from) {
            int end = newState();
            if (s.min() == 0) {
                epsilon(from, end);
            }
            if (s.max() == 0) {
                return end;
            }
            if (s.max() == Expr.UNBOUNDED && s.min() <= 1) {
                int item = newState();
                epsilon(from, item);
                int after = build(s.item(), item);
                epsilon(after, end);
                int sep = newState();
                epsilon(after, sep);
                epsilon(build(s.sep(), sep), item);
                return end;
            }
            int first = build(s.item(), from);
            int restMin = Math.max(0, s.min() - 1);
            int restMax = s.max() == Expr.UNBOUNDED ? Expr.UNBOUNDED : s.max() - 1;
            epsilon(repeat(Expr.seq(s.sep(), s.item()), restMin, restMax, first), end);
            return end;
        }

        Nfa finish(int start, int end) {
            int[][] e = new int[count][], g = new int[count][];
            for (int i = 0; i < count; i++) {
                e[i] = Arrays.copyOf(eps[i], epsSize[i]);
                g[i] = Arrays.copyOf(edges[i], edgeSize[i]);
            }
            return new Nfa(start, end, e, g);
        }
    }
}
