package dev.pagoda.kernel;

/** A slice of a parallel loop: handles indices {@code [start, end)}. Primitive arguments, so no boxing per call. */
@FunctionalInterface
public interface RangeTask {
    void run(int start, int end);
}
