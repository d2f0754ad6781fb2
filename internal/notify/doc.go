// Package notify tells a receiver over HTTP when a job reached its final
// answer: signed webhooks, delivered at least once.
//
// A handler calls Notifier.JobEnded at its final answer. That enqueues a
// notice as its own asynq task (TypeNotify) in the job's queue, with a task ID
// derived from the job's, so a replay of the job's last attempt finds the
// notice already there and enqueues no second one. The notice's body (see
// Notice) and its delivery ID are fixed when it is enqueued, so every try
// sends the same bytes and the same X-Essworker-Delivery.
//
// Notifier.ProcessTask, registered for TypeNotify, POSTs the body with its
// HMAC-SHA256 signature (X-Essworker-Signature: sha256=<hex>). Any 2xx is
// delivered; any other answer or a transport failure is retried on
// Notifier.RetryDelay's schedule until Config.Budget runs out, then the
// notice is dropped (archived). A notice never delays or fails the job it
// reports: enqueueing it is bounded in time and its failure is only logged.
package notify
