/*
 * A minimal MQTT sink broker for the client-bound throughput benchmark
 * (bench/throughput.ts --broker sink). It routes nothing: it answers every
 * packet the protocol requires an answer to, and costs almost nothing, so
 * that the client under test is the limit.
 *
 *   CONNECT -> CONNACK (3.1.1 or 5.0, by the CONNECT's protocol level)
 *   PUBLISH QoS 1 -> PUBACK, QoS 2 -> PUBREC; PUBREL -> PUBCOMP
 *   SUBSCRIBE -> SUBACK (each filter granted the QoS it asked for)
 *   UNSUBSCRIBE -> UNSUBACK; PINGREQ -> PINGRESP; DISCONNECT -> close
 *
 * Receiving: a SUBSCRIBE to `sink/blast/<count>/<size>/<anything>` makes
 * the sink publish <count> messages of <size> bytes on that very topic at the
 * granted QoS, right after the SUBACK, as fast as the socket takes them;
 * each payload starts with its sequence number (4 bytes, big-endian). QoS 1
 * and 2 keep at most the client's Receive Maximum (MQTT 5 CONNECT; 65,535
 * when absent) in flight, answering PUBREC with PUBREL.
 *
 * One process, one thread, epoll, non-blocking sockets. The stream is framed
 * properly: the remaining length is a varint, and a packet may be split
 * across reads (bytes wait in a per-connection buffer until it is whole).
 * Replies are batched per read and written once; what the socket does not
 * take waits for EPOLLOUT.
 *
 * Prints "PORT <n>" on stdout once listening on 127.0.0.1 (port 0: the
 * kernel picks a free one). Exits when stdin closes (its parent is gone).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

enum {
  CONNECT = 1, CONNACK = 2, PUBLISH = 3, PUBACK = 4, PUBREC = 5, PUBREL = 6, PUBCOMP = 7,
  SUBSCRIBE = 8, SUBACK = 9, UNSUBSCRIBE = 10, UNSUBACK = 11, PINGREQ = 12, PINGRESP = 13,
  DISCONNECT = 14
};
enum { MQTT_311 = 4, MQTT_5 = 5 };
enum { READ_CHUNK = 256 * 1024 };
/* A packet larger than this closes the connection (the benchmark sends 1 KiB payloads). */
enum { MAX_PACKET = 16 * 1024 * 1024 };

struct buf { uint8_t *p; size_t len, cap; };

struct conn {
  int fd;
  int version;
  struct buf in, out;
  /* The blast (see above): messages left to send, their QoS, size and topic; QoS 1/2 in flight. */
  long blast_left, blast_seq;
  int blast_qos;
  size_t blast_size;
  char blast_topic[256];
  size_t blast_topic_len;
  long inflight, window;
  uint16_t next_id;
};

/* QoS 0 blast: stop filling the output once this much waits for the socket. */
enum { BLAST_HIGH_WATER = 256 * 1024 };

static void reserve(struct buf *b, size_t extra) {
  if (b->len + extra <= b->cap) return;
  size_t cap = b->cap ? b->cap : 4096;
  while (cap < b->len + extra) cap *= 2;
  b->p = realloc(b->p, cap);
  if (!b->p) { perror("realloc"); exit(1); }
  b->cap = cap;
}

static void put(struct buf *b, const uint8_t *bytes, size_t n) {
  reserve(b, n);
  memcpy(b->p + b->len, bytes, n);
  b->len += n;
}

static void put_ack(struct conn *c, int type, int flags, const uint8_t *id) {
  /* Remaining length 2: the packet id; in MQTT 5 a missing reason code means Success. */
  uint8_t pkt[4] = {(uint8_t)(type << 4 | flags), 2, id[0], id[1]};
  put(&c->out, pkt, 4);
}

static void close_conn(int ep, struct conn *c) {
  epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  free(c->in.p);
  free(c->out.p);
  free(c);
}

/* Skips an MQTT 5 property block (varint length, then that many bytes); returns the new offset or -1. */
static long skip_props(const uint8_t *b, size_t len, size_t i) {
  size_t n = 0, mul = 1;
  for (int k = 0; k < 4; k++) {
    if (i >= len) return -1;
    uint8_t v = b[i++];
    n += (v & 0x7f) * mul;
    mul *= 128;
    if (!(v & 0x80)) return i + n <= len ? (long)(i + n) : -1;
  }
  return -1;
}

/* The value of an MQTT 5 property: its size in bytes after the id (-1: variable or unknown). */
static long prop_size(uint8_t id) {
  switch (id) {
  case 0x01: case 0x17: case 0x19: case 0x24: case 0x25: case 0x28: case 0x29: case 0x2a: return 1;
  case 0x13: case 0x21: case 0x22: case 0x23: return 2;
  case 0x02: case 0x11: case 0x18: case 0x27: return 4;
  default: return -1;
  }
}

/* Receive Maximum from a CONNECT's property block at b[i]; 65,535 when absent or unreadable. */
static long connect_receive_maximum(const uint8_t *b, size_t len, size_t i) {
  size_t n = 0, mul = 1;
  for (int k = 0; k < 4 && i < len; k++) {
    uint8_t v = b[i++];
    n += (v & 0x7f) * mul;
    mul *= 128;
    if (!(v & 0x80)) break;
  }
  size_t end = i + n < len ? i + n : len;
  while (i < end) {
    uint8_t id = b[i++];
    long sz = prop_size(id);
    if (id == 0x21 && i + 2 <= end) return (long)b[i] << 8 | b[i + 1];
    if (sz > 0) i += (size_t)sz;
    else if (id == 0x0b) { while (i < end && (b[i] & 0x80)) i++; i++; }
    else if (id == 0x26) { for (int k = 0; k < 2 && i + 2 <= end; k++) i += 2 + ((size_t)b[i] << 8 | b[i + 1]); }
    else if (i + 2 <= end) i += 2 + ((size_t)b[i] << 8 | b[i + 1]); /* a string or binary */
    else break;
  }
  return 65535;
}

/* Appends blast PUBLISH packets while the window and the output buffer allow. */
static void pump(struct conn *c) {
  while (c->blast_left > 0 && (c->blast_qos == 0 ? c->out.len < BLAST_HIGH_WATER : c->inflight < c->window)) {
    size_t rl = 2 + c->blast_topic_len + (c->blast_qos ? 2 : 0) + (c->version == MQTT_5 ? 1 : 0) + c->blast_size;
    uint8_t head[5];
    size_t h = 0;
    head[h++] = (uint8_t)(PUBLISH << 4 | c->blast_qos << 1);
    size_t x = rl;
    do {
      uint8_t v = x & 0x7f;
      x >>= 7;
      head[h++] = x ? v | 0x80 : v;
    } while (x);
    reserve(&c->out, h + rl);
    uint8_t *p = c->out.p + c->out.len;
    memcpy(p, head, h);
    p += h;
    *p++ = (uint8_t)(c->blast_topic_len >> 8);
    *p++ = (uint8_t)c->blast_topic_len;
    memcpy(p, c->blast_topic, c->blast_topic_len);
    p += c->blast_topic_len;
    if (c->blast_qos) {
      if (++c->next_id == 0) c->next_id = 1;
      *p++ = (uint8_t)(c->next_id >> 8);
      *p++ = (uint8_t)c->next_id;
      c->inflight++;
    }
    if (c->version == MQTT_5) *p++ = 0; /* no properties */
    memset(p, 0, c->blast_size);
    uint32_t seq = (uint32_t)c->blast_seq++;
    if (c->blast_size >= 4) { p[0] = seq >> 24; p[1] = seq >> 16; p[2] = seq >> 8; p[3] = seq; }
    c->out.len += h + rl;
    c->blast_left--;
  }
}

/* Handles one whole packet; returns 0 to keep the connection, -1 to close it. */
static int packet(struct conn *c, uint8_t first, const uint8_t *b, size_t len) {
  int type = first >> 4;
  switch (type) {
  case CONNECT: {
    /* Protocol name (2-byte length + "MQTT"), then the level. */
    if (len < 3) return -1;
    size_t nl = (size_t)b[0] << 8 | b[1];
    if (2 + nl >= len) return -1;
    c->version = b[2 + nl] == MQTT_5 ? MQTT_5 : MQTT_311;
    /* Level, flags, keepalive; then MQTT 5's properties. */
    c->window = c->version == MQTT_5 ? connect_receive_maximum(b, len, 2 + nl + 4) : 65535;
    if (c->window < 1) c->window = 1;
    if (c->version == MQTT_5) {
      uint8_t ack[5] = {CONNACK << 4, 3, 0, 0, 0}; /* no session, Success, no properties */
      put(&c->out, ack, 5);
    } else {
      uint8_t ack[4] = {CONNACK << 4, 2, 0, 0};
      put(&c->out, ack, 4);
    }
    return 0;
  }
  case PUBLISH: {
    int qos = (first >> 1) & 3;
    if (qos == 0) return 0;
    if (len < 2) return -1;
    size_t tl = (size_t)b[0] << 8 | b[1];
    if (2 + tl + 2 > len) return -1;
    put_ack(c, qos == 1 ? PUBACK : PUBREC, 0, b + 2 + tl);
    return 0;
  }
  case PUBREL:
    if (len < 2) return -1;
    put_ack(c, PUBCOMP, 0, b);
    return 0;
  case PUBACK: case PUBCOMP:
    if (c->inflight > 0) c->inflight--;
    return 0;
  case PUBREC: {
    if (len < 2) return -1;
    put_ack(c, PUBREL, 2, b); /* PUBREL's fixed-header flags are 0010 */
    return 0;
  }
  case SUBSCRIBE: case UNSUBSCRIBE: {
    if (len < 2) return -1;
    size_t i = 2;
    if (c->version == MQTT_5) {
      long j = skip_props(b, len, i);
      if (j < 0) return -1;
      i = (size_t)j;
    }
    uint8_t codes[256];
    size_t n = 0;
    while (i < len) {
      if (i + 2 > len) return -1;
      size_t fl = (size_t)b[i] << 8 | b[i + 1];
      i += 2 + fl;
      uint8_t granted = 0; /* UNSUBACK: Success */
      if (type == SUBSCRIBE) {
        if (i >= len) return -1;
        granted = b[i++] & 3;
        long count;
        unsigned size;
        const char *f = (const char *)b + i - 1 - fl;
        char filter[256];
        if (fl < sizeof filter) {
          memcpy(filter, f, fl);
          filter[fl] = 0;
          if (sscanf(filter, "sink/blast/%ld/%u/", &count, &size) == 2) {
            memcpy(c->blast_topic, filter, fl);
            c->blast_topic_len = fl;
            c->blast_left = count;
            c->blast_seq = 0;
            c->blast_size = size;
            c->blast_qos = granted;
            c->inflight = 0;
          }
        }
      }
      if (n == sizeof codes) return -1;
      codes[n++] = granted;
    }
    if (i != len) return -1;
    int v5 = c->version == MQTT_5;
    /* 3.1.1's UNSUBACK has no per-filter codes. */
    size_t ncodes = type == SUBSCRIBE || v5 ? n : 0;
    size_t rl = 2 + (size_t)v5 + ncodes;
    uint8_t head[4] = {(uint8_t)((type == SUBSCRIBE ? SUBACK : UNSUBACK) << 4), (uint8_t)rl, b[0], b[1]};
    put(&c->out, head, 4);
    if (v5) put(&c->out, (const uint8_t *)"", 1); /* empty property block */
    put(&c->out, codes, ncodes);
    return 0;
  }
  case PINGREQ: {
    uint8_t resp[2] = {PINGRESP << 4, 0};
    put(&c->out, resp, 2);
    return 0;
  }
  case DISCONNECT:
  default:
    return -1;
  }
}

/* Frames and handles every whole packet in c->in; keeps a partial one for the next read. */
static int frame(struct conn *c) {
  size_t pos = 0;
  const uint8_t *p = c->in.p;
  while (pos + 2 <= c->in.len) {
    size_t len = 0, mul = 1, i = pos + 1;
    int complete = 0;
    while (i < c->in.len && i < pos + 5) {
      uint8_t v = p[i++];
      len += (v & 0x7f) * mul;
      mul *= 128;
      if (!(v & 0x80)) { complete = 1; break; }
    }
    if (!complete) {
      if (i >= pos + 5) return -1; /* a varint longer than 4 bytes */
      break;
    }
    if (len > MAX_PACKET) return -1;
    if (i + len > c->in.len) break;
    if (packet(c, p[pos], p + i, len) < 0) return -1;
    pos = i + len;
  }
  memmove(c->in.p, c->in.p + pos, c->in.len - pos);
  c->in.len -= pos;
  return 0;
}

static int flush_out(int ep, struct conn *c) {
  size_t done = 0;
  while (done < c->out.len) {
    ssize_t w = write(c->fd, c->out.p + done, c->out.len - done);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) break;
      return -1;
    }
    done += (size_t)w;
  }
  memmove(c->out.p, c->out.p + done, c->out.len - done);
  c->out.len -= done;
  struct epoll_event ev = {.events = EPOLLIN | (c->out.len ? EPOLLOUT : 0), .data.ptr = c};
  epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
  return 0;
}

int main(void) {
  int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK), .sin_port = 0};
  if (ls < 0 || bind(ls, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(ls, 1024) < 0) {
    perror("sink: listen");
    return 1;
  }
  socklen_t al = sizeof addr;
  getsockname(ls, (struct sockaddr *)&addr, &al);
  printf("PORT %d\n", ntohs(addr.sin_port));
  fflush(stdout);

  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
  epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
  /* stdin: its end (EOF) means the parent is gone. */
  struct conn stdin_marker;
  ev.data.ptr = &stdin_marker;
  epoll_ctl(ep, EPOLL_CTL_ADD, 0, &ev);

  struct epoll_event events[64];
  for (;;) {
    int n = epoll_wait(ep, events, 64, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      perror("sink: epoll_wait");
      return 1;
    }
    for (int k = 0; k < n; k++) {
      struct conn *c = events[k].data.ptr;
      if (c == NULL) {
        int fd;
        while ((fd = accept4(ls, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
          int one = 1;
          setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          struct conn *nc = calloc(1, sizeof *nc);
          nc->fd = fd;
          nc->version = MQTT_311;
          struct epoll_event cev = {.events = EPOLLIN, .data.ptr = nc};
          epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev);
        }
        continue;
      }
      if (c == &stdin_marker) {
        char tmp[64];
        if (read(0, tmp, sizeof tmp) <= 0) return 0;
        continue;
      }
      int dead = 0;
      if (events[k].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        for (;;) {
          reserve(&c->in, READ_CHUNK);
          ssize_t r = read(c->fd, c->in.p + c->in.len, c->in.cap - c->in.len);
          if (r > 0) {
            c->in.len += (size_t)r;
            if ((size_t)r < READ_CHUNK) break;
            continue;
          }
          if (r < 0 && errno == EINTR) continue;
          if (r < 0 && errno == EAGAIN) break;
          dead = 1; /* EOF or error */
          break;
        }
        if (!dead && frame(c) < 0) dead = 1;
      }
      /* A QoS 0 blast refills the output as long as the socket takes it all. */
      do {
        pump(c);
        if (!dead && flush_out(ep, c) < 0) dead = 1;
      } while (!dead && c->out.len == 0 && c->blast_left > 0 && c->blast_qos == 0);
      if (dead) close_conn(ep, c);
    }
  }
}
