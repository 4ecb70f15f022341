/**
 * steadfast-mqtt/request: MQTT 5 request/response as functions over a client
 * (`request(client, topic, payload)`, `respond(client, filter, handler)`), so
 * that a publish/subscribe browser bundle leaves it out. `useRequest()` makes
 * `client.request()` and `client.respond()` work as well; the Node entry
 * (`steadfast-mqtt` in Node, `steadfast-mqtt/node`) has already called it.
 *
 * @module steadfast-mqtt/request
 */
export {
  type RequestHandler,
  type RequestOptions,
  request,
  respond,
  useRequest,
} from './client/request.ts';
