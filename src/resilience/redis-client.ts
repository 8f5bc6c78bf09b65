/**
 * The few Redis commands the resilience library uses, typed structurally so that an ioredis
 * `Redis` or `Cluster` client fits without this module importing the driver.
 */
export interface RedisScriptClient {
  evalsha(sha1: string, numkeys: number, ...args: Array<string | number>): Promise<unknown>;
  eval(script: string, numkeys: number, ...args: Array<string | number>): Promise<unknown>;
}

export interface RedisCacheClient {
  get(key: string): Promise<string | null>;
  set(key: string, value: string, millisecondsToken: "PX", milliseconds: number): Promise<unknown>;
  del(key: string): Promise<number>;
}
