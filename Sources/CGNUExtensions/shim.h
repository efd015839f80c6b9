// glibc's GNU extensions that Swift's Glibc module leaves out (it is built without _GNU_SOURCE).
#include <malloc.h>     // malloc_trim
#include <pthread.h>
extern int pthread_setname_np(pthread_t thread, const char *name);
