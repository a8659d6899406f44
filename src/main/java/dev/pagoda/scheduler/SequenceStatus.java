package dev.pagoda.scheduler;

/** Where a sequence is in the scheduler. */
public enum SequenceStatus {
    /** Queued; holds no KV memory (new, or preempted by recompute). */
    WAITING,
    /** Admitted: holds KV memory and is scheduled every step (prefill chunks, then decode). */
    RUNNING,
    /** Preempted by swapping: its K/V sit in the swap space until it is brought back. */
    SWAPPED,
    /** Done or aborted; holds nothing. */
    FINISHED
}
