package dev.pagoda.kernel;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The arguments of one {@link MatMul} call, held by a job the calling thread reuses (so a call allocates nothing) and
 * the pool runs over blocks of rows: {@link PanelJob} over panels, {@link MatMul}'s own job over rows.
 */
abstract class MatMulCall implements RangeTask {
    private static final AtomicLong CALLS = new AtomicLong();
    /** This call's number, unique in the process: what a thread prepared for it once can be reused by its other chunks. */
    long call;
    WeightMatrix w;
    float[] x;
    float[] out;
    int xOff;
    int nTokens;
    int outOff;

    final MatMulCall set(WeightMatrix w, float[] x, int xOff, int nTokens, float[] out, int outOff) {
        this.w = w;
        this.x = x;
        this.xOff = xOff;
        this.nTokens = nTokens;
        this.out = out;
        this.outOff = outOff;
        this.call = CALLS.incrementAndGet();
        return this;
    }

    /** Drops the references, so a finished call keeps no arrays alive. */
    final void clear() {
        w = null;
        x = null;
        out = null;
    }
}
