"""Subject access requests (UK GDPR Art. 15, DPA 2018): a request for everything the
partnership holds about a child or a person of concern, its statutory due date, the
package assembled across the three services with other people redacted, the reviewer's
decision, and the document released."""
