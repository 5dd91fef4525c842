import type { Persistence } from '@warren/core';

export interface ReceiptSink {
  sendReceipt(receiptId: string): void;
}

/**
 * RECEIPTs in order, some of them held until the store has what the frame published: a receipt for a
 * persistent SEND means "on disk", as a publisher confirm does (DESIGN §5). A receipt behind a held one waits
 * too, so the client sees receipts in the order of its frames. One store callback per batch, not per frame.
 */
export class Receipts {
  private batch: string[] | undefined = undefined;
  private batchId = -1;
  /** Whether the open batch waits for this turn's store batch (else only for the one already in flight). */
  private batchCoversPending = false;
  private outstanding = 0;

  constructor(
    private readonly persistence: Persistence,
    private readonly sink: ReceiptSink,
  ) {}

  /** `durable`: the frame published a message the store is writing. */
  receipt(id: string, durable: boolean): void {
    if (!durable && this.outstanding === 0) {
      this.sink.sendReceipt(id);
      return;
    }
    let batch = this.batch;
    const sameBatch =
      this.batchId === this.persistence.batchId && (this.batchCoversPending || !this.persistence.pending);
    if (batch === undefined || !sameBatch) {
      const fresh: string[] = [];
      batch = fresh;
      this.batch = fresh;
      this.batchId = this.persistence.batchId;
      this.batchCoversPending = this.persistence.pending;
      this.outstanding++;
      // Store batches complete in order, so the callbacks run in the order the batches were opened here.
      this.persistence.afterSync(() => {
        this.outstanding--;
        if (this.batch === fresh) this.batch = undefined;
        for (const r of fresh) this.sink.sendReceipt(r);
      });
    }
    batch.push(id);
  }
}
