import { PermanentError, TransientError } from '../../errors.js';
import type { RequestSigner } from '../../providers/gcp/auth.js';

/*
 * Publishing to one Pub/Sub topic over REST (`projects.topics.publish`). The sidecar sends a few
 * small messages a minute; the official client's streaming, batching and flow control would add
 * a gRPC stack to the sidecar for that, so this is one documented POST with the auth client's
 * headers. The Pub/Sub emulator serves the same call.
 */

export interface TopicPublisher {
  readonly topic: string;
  /** Publishes one JSON message; resolves with its message id. */
  publish(message: unknown): Promise<string>;
}

export interface TopicOptions {
  readonly project: string;
  /** A topic id, or `projects/P/topics/T`. */
  readonly topic: string;
  /** `https://pubsub.googleapis.com` unless given (the emulator in tests). */
  readonly endpoint?: string | undefined;
  readonly auth: RequestSigner;
  readonly timeoutMs?: number;
  readonly fetch?: typeof fetch;
}

/** `portlb-lifecycle` in project P -> `projects/P/topics/portlb-lifecycle`. */
export function topicPath(project: string, topic: string): string {
  return topic.startsWith('projects/') ? topic : `projects/${project}/topics/${topic}`;
}

export function createTopicPublisher(options: TopicOptions): TopicPublisher {
  const topic = topicPath(options.project, options.topic);
  const url = `${(options.endpoint ?? 'https://pubsub.googleapis.com').replace(/\/$/, '')}/v1/${topic}:publish`;
  const send = options.fetch ?? fetch;
  return {
    topic,
    async publish(message) {
      const headers = new Headers(await options.auth.getRequestHeaders(url));
      headers.set('content-type', 'application/json');
      const data = Buffer.from(JSON.stringify(message)).toString('base64');
      let response: Response;
      try {
        response = await send(url, {
          method: 'POST',
          headers,
          body: JSON.stringify({ messages: [{ data }] }),
          signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
        });
      } catch (error) {
        throw new TransientError(`publishing to ${topic}: ${String(error)}`, { cause: error });
      }
      const text = await response.text();
      if (response.ok) {
        const id = (JSON.parse(text) as { messageIds?: string[] }).messageIds?.[0];
        if (id === undefined) throw new TransientError(`publishing to ${topic}: no message id in the answer`);
        return id;
      }
      const detail = `${response.status} ${text.slice(0, 300)}`;
      if (response.status === 429 || response.status >= 500) {
        throw new TransientError(`publishing to ${topic}: ${detail}`);
      }
      if (response.status === 403) {
        throw new PermanentError(
          `publishing to ${topic} was refused: grant pubsub.topics.publish on it (roles/pubsub.publisher): ${detail}`,
        );
      }
      if (response.status === 404) throw new PermanentError(`topic ${topic} does not exist: ${detail}`);
      throw new PermanentError(`publishing to ${topic}: ${detail}`);
    },
  };
}
