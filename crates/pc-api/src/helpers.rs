//! Shortcuts for the common cases, built on the generated operations.

use pc_api_runtime::fanout::{FanOut, FanOutBuilder, Listing, customer_ids};

use crate::types::{
    Customer, CustomerFilter, CustomerSearchField, CustomerUser, CustomerUserCollection,
    FieldFilterOperation, UserFilter, UserState,
};
use crate::{Client, Error, ErrorBody, builder};

impl CustomerFilter {
    /// The customers whose company name starts with `prefix` (the service
    /// compares without regard to case), e.g.
    /// `{"Field":"CompanyName","Value":"Contoso","Operator":"starts_with"}`.
    ///
    /// ```no_run
    /// # async fn example(client: &pc_api::Client) -> Result<(), pc_api::Error> {
    /// use futures::TryStreamExt;
    /// use pc_api::types::CustomerFilter;
    /// let found: Vec<_> = client
    ///     .get_customers()
    ///     .filter(CustomerFilter::company_name_starts_with("Contoso"))
    ///     .stream()
    ///     .try_collect()
    ///     .await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn company_name_starts_with(prefix: impl Into<String>) -> Self {
        CustomerFilter {
            field: CustomerSearchField::CompanyName,
            value: prefix.into(),
            operator: FieldFilterOperation::StartsWith,
        }
    }

    /// The customers whose domain starts with `prefix`.
    pub fn domain_starts_with(prefix: impl Into<String>) -> Self {
        CustomerFilter {
            field: CustomerSearchField::Domain,
            value: prefix.into(),
            operator: FieldFilterOperation::StartsWith,
        }
    }
}

impl UserFilter {
    /// The filter of deleted users,
    /// `{"Field":"UserState","Value":"Inactive","Operator":"equals"}`.
    pub fn deleted_users() -> Self {
        UserFilter {
            field: "UserState".to_owned(),
            value: "Inactive".to_owned(),
            operator: FieldFilterOperation::Equals,
        }
    }
}

impl Client {
    /// Every user of every customer of the partner: a partner-wide run
    /// ([`FanOut`]) of [`get_customer_users`](Client::get_customer_users)
    /// over the customers [`get_customers`](Client::get_customers) lists.
    ///
    /// At most 8 customers at a time (`.concurrency(n)`), the pages of each
    /// in order; one throttle for the whole run (a 429 pauses every request
    /// for its `Retry-After`, and the run settles just under the rate the
    /// service allows; `.max_requests_per_second(r)` caps it); a customer
    /// that fails is an [`Event::Failed`](crate::fanout::Event::Failed) and
    /// the run goes on; `.checkpoint(..)` resumes an interrupted run.
    ///
    /// ```no_run
    /// # async fn example(client: &pc_api::Client) -> Result<(), pc_api::Error> {
    /// use futures::TryStreamExt;
    /// use pc_api::fanout::{Checkpoint, Event};
    ///
    /// let mut checkpoint = Checkpoint::new();
    /// let mut run = client.all_customer_users().page_size(500).run();
    /// while let Some(event) = run.try_next().await? {
    ///     match &event {
    ///         Event::Page { customer, page } => {
    ///             for user in &page.items {
    ///                 println!("{customer} {:?}", user.user_principal_name);
    ///             }
    ///         }
    ///         Event::Failed { customer, error } => eprintln!("{customer}: {error}"),
    ///         Event::Done { .. } => {}
    ///     }
    ///     // Write the output, then persist the checkpoint with it.
    ///     checkpoint.record(&event);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn all_customer_users(&self) -> FanOutBuilder<Client, CustomerUserCollection, ErrorBody> {
        FanOut::builder(
            self.clone(),
            |client: &Client| customer_ids(client.get_customers().stream(), customer_id),
            |client: &Client, listing: Listing| {
                let mut request = client.get_customer_users(listing.customer);
                if let Some(size) = listing.page_size {
                    request = request.size(size);
                }
                match listing.resume {
                    Some(token) => request.resume(token).pages(),
                    None => request.pages(),
                }
            },
        )
    }

    /// Lists the deleted users of a customer: users in the 30 days between
    /// their deletion and their purge, which [`restore_user`](Client::restore_user)
    /// can bring back. A paged listing like
    /// [`get_customer_users`](Client::get_customer_users).
    ///
    /// ```no_run
    /// # async fn example(client: &pc_api::Client) -> Result<(), pc_api::Error> {
    /// use futures::TryStreamExt;
    /// let deleted: Vec<_> = client.list_deleted_users("<customer_id>").stream().try_collect().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn list_deleted_users(&self, customer_id: impl Into<String>) -> builder::GetCustomerUsers {
        self.get_customer_users(customer_id)
            .filter(UserFilter::deleted_users())
    }

    /// Deletes a user: it turns `inactive` and can be restored for 30 days.
    ///
    /// ```no_run
    /// # async fn example(client: &pc_api::Client) -> Result<(), pc_api::Error> {
    /// client.delete_user("<customer_id>", "<user_id>").await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn delete_user(
        &self,
        customer_id: impl Into<String>,
        user_id: impl Into<String>,
    ) -> Result<(), Error> {
        self.delete_customer_user(customer_id, user_id)
            .send()
            .await
            .map(|_| ())
    }

    /// Restores a deleted user. Sends only `state: active` (and the object
    /// type every user body carries), so nothing else about the user changes.
    ///
    /// ```no_run
    /// # async fn example(client: &pc_api::Client) -> Result<(), pc_api::Error> {
    /// let user = client.restore_user("<customer_id>", "<user_id>").await?;
    /// assert_eq!(user.state, Some(pc_api::types::UserState::Active));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn restore_user(
        &self,
        customer_id: impl Into<String>,
        user_id: impl Into<String>,
    ) -> Result<CustomerUser, Error> {
        let restore = CustomerUser {
            state: Some(UserState::Active),
            ..CustomerUser::default()
        };
        Ok(self
            .update_customer_user(customer_id, user_id, restore)
            .send()
            .await?
            .into_inner())
    }
}

/// The id a customer's operations take: its `id`, or its tenant id.
fn customer_id(customer: &Customer) -> Option<String> {
    customer.id.clone().or_else(|| {
        customer
            .company_profile
            .as_ref()
            .and_then(|p| p.tenant_id.clone())
    })
}
